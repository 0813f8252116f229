"""Production: no defaults for secrets; refuses to start without them. Served behind a
TLS-terminating proxy (load balancer, ingress) that sets X-Forwarded-Proto and appends the
client address to X-Forwarded-For. `manage.py check --deploy` is clean (tested)."""

from .base import *  # noqa: F401,F403
from .base import REST_FRAMEWORK, env

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY")  # required: raises ImproperlyConfigured if missing
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
PAYMENT_API_KEY = env("PAYMENT_API_KEY")  # required: the processor's live or test secret key
# Required: anyone knowing the development values could forge delivery receipts.
SMS_AUTH_TOKEN = env("SMS_AUTH_TOKEN")
PUSH_API_TOKEN = env("PUSH_API_TOKEN")
PUSH_RECEIPT_SECRET = env("PUSH_RECEIPT_SECRET")
EMAIL_RECEIPT_SECRET = env("EMAIL_RECEIPT_SECRET")
PUBLIC_BASE_URL = env("PUBLIC_BASE_URL").rstrip("/")
# Carriers are opt-in here (base defaults point at the simulator): each one listed needs its
# real API URL and credentials, or the settings refuse to load.
SHIPPING_CARRIERS = env.list("SHIPPING_CARRIERS", default=[])
for _carrier in SHIPPING_CARRIERS:
    _prefix = _carrier.upper()
    _names = (["API_URL", "ACCOUNT_NUMBER", "WEBHOOK_SECRET", "API_KEY", "API_SECRET"]
              if _carrier == "dhl" else ["API_URL", "ACCOUNT_NUMBER", "CLIENT_ID",
                                         "CLIENT_SECRET", "WEBHOOK_CREDENTIAL"
                                         if _carrier == "ups" else "WEBHOOK_SECRET"])
    for _name in _names:
        globals()[f"{_prefix}_{_name}"] = env(f"{_prefix}_{_name}")  # required
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# TLS ends at the proxy: trust its X-Forwarded-Proto, redirect plain HTTP to HTTPS (except
# the probes and the metrics scrape, which stay inside the cluster), and tell browsers to
# use HTTPS only (HSTS).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_HSTS_PRELOAD", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# The proxy appends one X-Forwarded-For hop: throttles key on the address it saw.
REST_FRAMEWORK = {**REST_FRAMEWORK,
                  "NUM_PROXIES": env.int("TRUSTED_PROXY_COUNT", default=1)}
