"""Brute-force protection for the credential endpoints (DRF throttling): each is limited per
client IP and per account. Rates: settings.AUTH_THROTTLE_RATES (read per request).

Counters live in the Redis cache. When Redis is unreachable the throttles fail open with a
logged warning (commerce.core.outages.fail_open): an outage must not lock everyone out.
Behind a proxy, the client IP comes from X-Forwarded-For only for the number of proxies
in REST_FRAMEWORK["NUM_PROXIES"] (TRUSTED_PROXY_COUNT), so clients cannot spoof it."""

import hashlib

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import RefreshToken

from commerce.core import outages


class _AuthThrottle(SimpleRateThrottle):
    scope = ""

    def get_rate(self):
        return settings.AUTH_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view):
        return outages.fail_open(f"throttle {self.scope}",
                                 lambda: super(_AuthThrottle, self).allow_request(request, view),
                                 True)

    def key(self, ident: str) -> str:
        digest = hashlib.sha256(ident.encode()).hexdigest()[:32]  # no emails in Redis keys
        return f"throttle:{self.scope}:{digest}"


class _PerIp(_AuthThrottle):
    def get_cache_key(self, request, view):
        return self.key(self.get_ident(request) or "unknown")


class _PerEmail(_AuthThrottle):
    """Keyed by the email in the body, case-insensitively (as login matches it)."""

    def get_cache_key(self, request, view):
        data = request.data
        email = data.get("email") if isinstance(data, dict) else None
        if not isinstance(email, str) or not email.strip():
            return None  # nothing to count per account; the IP limit still applies
        return self.key(email.strip().lower())


class TokenIpThrottle(_PerIp):
    scope = "token_ip"


class TokenAccountThrottle(_PerEmail):
    scope = "token_account"


class RegisterIpThrottle(_PerIp):
    scope = "register_ip"


class RegisterAccountThrottle(_PerEmail):
    scope = "register_account"


class RefreshIpThrottle(_PerIp):
    scope = "refresh_ip"


class RefreshAccountThrottle(_AuthThrottle):
    """Keyed by the user a genuine refresh token belongs to (a forged token counts only
    against the IP)."""

    scope = "refresh_account"

    def get_cache_key(self, request, view):
        data = request.data
        raw = data.get("refresh") if isinstance(data, dict) else None
        if not isinstance(raw, str):
            return None
        try:
            user_id = RefreshToken(raw, verify=True).get(settings.SIMPLE_JWT["USER_ID_CLAIM"])
        except TokenError:
            return None
        return self.key(str(user_id)) if user_id else None
