"""JWT authentication with a short per-process cache of the user behind a token.

simplejwt reads the user row on every request to check it still exists and is active; on
the order placement path that read (and its model instance) was a tenth of the request's
CPU. Users are kept for settings.AUTH_USER_CACHE_SECONDS (default 30): a deactivated user
or a changed staff permission takes effect within that time, well inside an access token's
own lifetime (JWT_ACCESS_MINUTES), which already bounds how long a revoked session lasts.

The validated token is kept the same way, by its exact bytes: the same bytes carry the same
signature, so checking it again gives the same answer until the token's own `exp`, which is
checked on every use (decoding and verifying it was another twentieth of the request)."""

import copy
import threading
import time

from django.conf import settings
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed
from rest_framework_simplejwt.settings import api_settings

MAX_ENTRIES = 10_000


class CachedJWTAuthentication(JWTAuthentication):
    _users: dict = {}
    _tokens: dict = {}  # raw token → (kept until, validated token)
    _lock = threading.Lock()

    def get_validated_token(self, raw_token):
        ttl = getattr(settings, "AUTH_USER_CACHE_SECONDS", 30)
        if ttl <= 0:
            return super().get_validated_token(raw_token)
        now = time.time()
        cached = self._tokens.get(raw_token)
        if cached is not None and cached[0] > now:
            return cached[1]
        token = super().get_validated_token(raw_token)  # raises on a bad or expired token
        self._keep(self._tokens, raw_token, (min(now + ttl, float(token.get("exp", now))), token))
        return token

    def get_user(self, validated_token):
        ttl = getattr(settings, "AUTH_USER_CACHE_SECONDS", 30)
        user_id = validated_token.get(api_settings.USER_ID_CLAIM)
        if ttl <= 0 or user_id is None:
            return super().get_user(validated_token)
        now = time.monotonic()
        cached = self._users.get(user_id)
        if cached is None or cached[0] < now:
            user = super().get_user(validated_token)  # checks existence and is_active
            cached = (now + ttl, user)
            self._keep(self._users, user_id, cached)
        user = cached[1]
        if not user.is_active:
            raise AuthenticationFailed("User is inactive.", code="user_inactive")
        # A copy per request: nothing a view sets on it leaks into another request (the
        # permission caches it carries are shared, which is the point).
        return copy.copy(user)

    @classmethod
    def _keep(cls, cache: dict, key, entry) -> None:
        with cls._lock:
            if len(cache) >= MAX_ENTRIES:
                cache.clear()  # bounded: a burst of distinct keys starts the cache afresh
            cache[key] = entry

    @classmethod
    def forget(cls, user_id=None) -> None:
        """Drop one user (or all) from this process's cache (tests; a deactivation here)."""
        with cls._lock:
            if user_id is None:
                cls._users.clear()
                cls._tokens.clear()
            else:
                cls._users.pop(str(user_id), None)
                cls._users.pop(user_id, None)


class CachedJWTScheme(SimpleJWTScheme):
    """The OpenAPI security scheme: the same bearer JWT as simplejwt's."""

    target_class = "commerce.api.authentication.CachedJWTAuthentication"
