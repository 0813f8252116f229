"""Settings shared by every environment. Everything that differs between machines comes
from the environment (12-factor); see README "Configuration"."""

import logging
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import environ

from commerce.core.logging import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="insecure-local-development-key-change-me")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])

INSTALLED_APPS = [
    "django_prometheus",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",  # logout and refresh rotation revoke tokens
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and ReDoc assets, served locally
    "django_structlog",
    "django_fsm",
    # shared kernel
    "commerce.accounts",
    "commerce.core",
    "commerce.eventstore",
    # domains
    "inventory",
    "orders",
    "payments",
    "cart",
    "sagas",
    "notifications",
    "shipping",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "commerce.core.middleware.CorrelationIdMiddleware",
    # JSON envelope for every error under /api/, 503 for outages anywhere (commerce/api).
    "commerce.api.middleware.ApiErrorMiddleware",
    "commerce.core.middleware.ProbeMiddleware",  # probes and scrapes: any Host header
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",  # admin CSS/JS under gunicorn
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_structlog.middlewares.RequestMiddleware",  # one JSON access line per request
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "commerce.urls"
WSGI_APPLICATION = "commerce.wsgi.application"
ASGI_APPLICATION = "commerce.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- PostgreSQL (psycopg 3) -------------------------------------------------------------
DATABASES = {
    "default": env.db_url(
        "DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/commerce"
    )
}
DATABASES["default"]["ENGINE"] = "commerce.core.postgres"  # django-prometheus, leaner
# Persistent connections; health checks drop a connection the server closed meanwhile
# (checked without a round trip: commerce/core/postgres/base.py).
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"].setdefault("OPTIONS", {})
# Parameters sent apart from the SQL (psycopg's server-side binding): composing a batch
# statement's thousands of parameters into the SQL text in Python cost more than the work.
DATABASES["default"]["OPTIONS"]["server_side_binding"] = env.bool(
    "DB_SERVER_SIDE_BINDING", default=True)
# Statements run this many times on a connection are prepared server-side (psycopg), so
# PostgreSQL parses and plans the hot ones once per connection instead of on every run.
# "off" behind PgBouncer in transaction mode older than 1.21 (no prepared statements there).
_prepare = env.str("DB_PREPARE_THRESHOLD", default="5")
DATABASES["default"]["OPTIONS"]["prepare_threshold"] = (
    None if _prepare.lower() in ("", "off", "none") else int(_prepare))
DATABASES["default"]["ATOMIC_REQUESTS"] = False  # each service opens its own transaction

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
# Languages customer messages are written in (templates/notifications, locale/).
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# --- Redis: cache (django-redis), carts, Celery broker, event publishing ----------------
REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.DefaultClient",
            "SOCKET_CONNECT_TIMEOUT": 2,
            "SOCKET_TIMEOUT": 2,
        },
        "KEY_PREFIX": "commerce",
    }
}

# --- Celery -----------------------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = None  # sagas keep their state in PostgreSQL, not in results
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=120)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=90)
# Longer than the longest step, so a slow step is not redelivered while still running.
# Socket timeouts: a publish after commit (a wake-up) must fail fast when the broker is
# unreachable, not hang the request that committed.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_TASK_TIME_LIMIT * 3,
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
    "socket_keepalive": True,
    "health_check_interval": 10,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Celery's Django fix-up closes every database connection before and after each task unless
# this is set; with it, connections are reused (and still recycled by CONN_MAX_AGE and
# health checks) instead of paying a new PostgreSQL backend per task.
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=1000)

# --- Event publishing (outbox relay) ----------------------------------------------------
EVENTS_PUBSUB_CHANNEL = env("EVENTS_PUBSUB_CHANNEL", default="commerce.events")
EVENTS_STREAM_KEY = env("EVENTS_STREAM_KEY", default="commerce:events")
EVENTS_STREAM_MAXLEN = env.int("EVENTS_STREAM_MAXLEN", default=100_000)
OUTBOX_BATCH_SIZE = env.int("OUTBOX_BATCH_SIZE", default=200)

# --- DRF / JWT / OpenAPI ----------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "commerce.api.authentication.CachedJWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["commerce.api.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "commerce.api.pagination.DefaultPagination",
    "PAGE_SIZE": 20,
    "EXCEPTION_HANDLER": "commerce.api.exceptions.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "commerce.api.schema.CommerceAutoSchema",
    "UNAUTHENTICATED_USER": None,
    "COERCE_DECIMAL_TO_STRING": True,
    # How many reverse proxies append to X-Forwarded-For; the client IP that throttles key on
    # is read that many hops from the right (0: the socket peer, nothing spoofable).
    "NUM_PROXIES": env.int("TRUSTED_PROXY_COUNT", default=0),
}

# Tokens are ours (HS256 with SECRET_KEY) unless an external identity provider is set:
# then JWT_ALGORITHM=RS256, JWT_VERIFYING_KEY=<PEM public key>, JWT_ISSUER, JWT_AUDIENCE.
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "ALGORITHM": env("JWT_ALGORITHM", default="HS256"),
    "SIGNING_KEY": env("JWT_SIGNING_KEY", default=SECRET_KEY),
    "VERIFYING_KEY": env("JWT_VERIFYING_KEY", default="") or None,
    "ISSUER": env("JWT_ISSUER", default="") or None,
    "AUDIENCE": env("JWT_AUDIENCE", default="") or None,
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    "AUTH_HEADER_TYPES": ("Bearer",),
    "UPDATE_LAST_LOGIN": False,
    # A refresh hands out a new refresh token and revokes the old one (token_blacklist);
    # logout (POST auth/logout/) revokes one.
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
}

# Brute-force limits on the credential endpoints, per client IP and per account
# (commerce/api/throttles.py). DRF rate syntax: <count>/<second|minute|hour|day>.
AUTH_THROTTLE_RATES = {
    "token_ip": "30/minute", "token_account": "10/hour",
    "refresh_ip": "60/minute", "refresh_account": "30/minute",
    "register_ip": "20/hour", "register_account": "5/hour",
    **env.dict("AUTH_THROTTLE_RATES", default={}),
}

# Seconds a process keeps the user behind a JWT (commerce/api/authentication.py).
AUTH_USER_CACHE_SECONDS = env.int("AUTH_USER_CACHE_SECONDS", default=30)

SPECTACULAR_SETTINGS = {
    "TITLE": "Commerce service API",
    "DESCRIPTION": "Orders, inventory, carts and checkout. Errors share one envelope: "
    '{"error": {"code": "...", "message": "...", "details": {...}}}.',
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # One name per choice set that several components share.
    "ENUM_NAME_OVERRIDES": {
        "OrderStatusEnum": "orders.lifecycle.OrderStatus.choices",
        "ShipmentStatusEnum": "shipping.models.ShipmentStatus",
        "ReturnStatusEnum": "shipping.models.ReturnStatus",
    },
}

# --- Hostile input and outages (commerce/api/middleware.py, commerce/core/outages.py) ----
# Longer URLs answer 414 in the envelope; gunicorn's own limit (deploy/gunicorn.conf.py) is
# set above this, so our app is the one answering.
MAX_URL_LENGTH = env.int("MAX_URL_LENGTH", default=4096)
# Bodies above this answer 413 `payload_too_large` (Django's default, 2.5 MB).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=2_621_440)
# Retry-After (seconds) on 503 `service_unavailable` while PostgreSQL or Redis is down.
OUTAGE_RETRY_AFTER_SECONDS = env.int("OUTAGE_RETRY_AFTER_SECONDS", default=5)

# --- Logging: one JSON format for every process, with the correlation id ----------------
LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOGGING = logging_config(LOG_LEVEL)
# django-structlog: one line per request ("request_finished", with code and correlation id).
DJANGO_STRUCTLOG_STATUS_START_LOG_LEVEL = logging.DEBUG
DJANGO_STRUCTLOG_IP_LOGGING_ENABLED = False

# --- Operations (ops/) ------------------------------------------------------------------
# How often beat computes the operator gauges, and runs the inventory drift check.
OPS_COLLECT_INTERVAL_SECONDS = env.float("OPS_COLLECT_INTERVAL_SECONDS", default=15.0)
INVENTORY_VERIFY_INTERVAL_SECONDS = env.float("INVENTORY_VERIFY_INTERVAL_SECONDS",
                                              default=600.0)

# --- Domain settings (each documented in README "Configuration") ------------------------
# How long an Idempotency-Key is remembered (then purged by beat).
IDEMPOTENCY_KEY_TTL_HOURS = env.int("IDEMPOTENCY_KEY_TTL_HOURS", default=24)
# inventory: how long a reservation holds stock before the beat task releases it.
RESERVATION_TTL_SECONDS = env.int("RESERVATION_TTL_SECONDS", default=900)
# cart
CART_TTL_DAYS = env.int("CART_TTL_DAYS", default=30)
CART_MAX_LINES = env.int("CART_MAX_LINES", default=50)
CART_MAX_QUANTITY_PER_LINE = env.int("CART_MAX_QUANTITY_PER_LINE", default=99)
# orders: the most units of one sku in one order.
ORDER_MAX_QUANTITY_PER_LINE = env.int("ORDER_MAX_QUANTITY_PER_LINE", default=1000)
ORDER_MAX_LINES = env.int("ORDER_MAX_LINES", default=100)
# sagas / payments
# How long a worker's claim on a saga lasts (its lease) before another worker may take it
# over: longer than the slowest step, external call included.
SAGA_STEP_DEADLINE_SECONDS = env.int("SAGA_STEP_DEADLINE_SECONDS", default=60)
# Sagas claimed per batch, and external calls (processor, carriers) in flight per worker
# process at once.
SAGA_BATCH_SIZE = env.int("SAGA_BATCH_SIZE", default=100)
SAGA_CALL_CONCURRENCY = env.int("SAGA_CALL_CONCURRENCY", default=64)
SAGA_MAX_ATTEMPTS = env.int("SAGA_MAX_ATTEMPTS", default=5)
CANCELLATION_APPROVAL_THRESHOLD = Decimal(env("CANCELLATION_APPROVAL_THRESHOLD", default="500.00"))
# The payment processor: a Stripe-compatible API (locally the simulator, `python -m simulators
# payments`). The default key is the simulator's test-only key; production requires its own.
PAYMENT_GATEWAY = env("PAYMENT_GATEWAY", default="payments.gateways.stripe_api.StripeGateway")
PAYMENT_API_BASE_URL = env("PAYMENT_API_BASE_URL", default="http://127.0.0.1:8101")
PAYMENT_API_KEY = env("PAYMENT_API_KEY", default="sk_test_commerce_local_simulator")
PAYMENT_API_TIMEOUT_SECONDS = env.float("PAYMENT_API_TIMEOUT_SECONDS", default=5.0)
# Exponential backoff for transient saga step failures: base * 2**(attempt-1), capped.
SAGA_RETRY_BACKOFF_SECONDS = env.float("SAGA_RETRY_BACKOFF_SECONDS", default=1.0)
SAGA_RETRY_BACKOFF_MAX_SECONDS = env.float("SAGA_RETRY_BACKOFF_MAX_SECONDS", default=60.0)

# --- Notifications and webhooks (notifications app; README "Configuration") --------------
# Links in messages (unsubscribe, tracking fallback, admin) and provider callbacks point here.
PUBLIC_BASE_URL = env("PUBLIC_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")
NOTIFICATIONS_CONSUMER_GROUP = env("NOTIFICATIONS_CONSUMER_GROUP", default="notifications")
NOTIFICATIONS_MAX_ATTEMPTS = env.int("NOTIFICATIONS_MAX_ATTEMPTS", default=6)
NOTIFICATIONS_RETRY_BACKOFF_SECONDS = env.float("NOTIFICATIONS_RETRY_BACKOFF_SECONDS", default=30.0)
NOTIFICATIONS_RETRY_BACKOFF_MAX_SECONDS = env.float("NOTIFICATIONS_RETRY_BACKOFF_MAX_SECONDS",
                                                    default=3600.0)
# Email: Django's SMTP backend; locally the SMTP simulator (python -m simulators smtp).
# EMAIL_URL like smtp://user:pass@host:587/?tls=True (django-environ's email_url).
_email = env.email_url("EMAIL_URL", default="smtp://127.0.0.1:8025")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST, EMAIL_PORT = _email["EMAIL_HOST"], _email["EMAIL_PORT"]
EMAIL_HOST_USER = _email["EMAIL_HOST_USER"] or ""
EMAIL_HOST_PASSWORD = _email["EMAIL_HOST_PASSWORD"] or ""
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Commerce <orders@commerce.local>")
EMAIL_RECEIPT_SECRET = env("EMAIL_RECEIPT_SECRET", default="dev-email-receipt-secret")
# SMS (Twilio-like), push (FCM-like), Slack incoming webhook; defaults are the simulators.
SMS_API_URL = env("SMS_API_URL", default="http://127.0.0.1:8103")
SMS_ACCOUNT_SID = env("SMS_ACCOUNT_SID", default="AC00000000000000000000000000000000")
SMS_AUTH_TOKEN = env("SMS_AUTH_TOKEN", default="dev-sms-auth-token")
SMS_FROM_NUMBER = env("SMS_FROM_NUMBER", default="+15005550006")
PUSH_API_URL = env("PUSH_API_URL", default="http://127.0.0.1:8104")
PUSH_PROJECT_ID = env("PUSH_PROJECT_ID", default="commerce-local")
PUSH_API_TOKEN = env("PUSH_API_TOKEN", default="dev-push-token")
PUSH_RECEIPT_SECRET = env("PUSH_RECEIPT_SECRET", default="dev-push-receipt-secret")
SLACK_WEBHOOK_URL = env("SLACK_WEBHOOK_URL",
                        default="http://127.0.0.1:8105/services/T0LOCAL/B0LOCAL/localdev")
SLACK_CHANNEL = env("SLACK_CHANNEL", default="#commerce-ops")
# Webhooks to subscribers: retries with exponential backoff, disabled after N failures in a row.
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=5.0)
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=12)
WEBHOOK_RETRY_BACKOFF_SECONDS = env.float("WEBHOOK_RETRY_BACKOFF_SECONDS", default=10.0)
WEBHOOK_RETRY_BACKOFF_MAX_SECONDS = env.float("WEBHOOK_RETRY_BACKOFF_MAX_SECONDS",
                                              default=3600.0)
WEBHOOK_DISABLE_AFTER_FAILURES = env.int("WEBHOOK_DISABLE_AFTER_FAILURES", default=20)

# --- shipping (shipping app, docs/shipping.md) ------------------------------------------
# Carrier APIs. The defaults point at the local carrier simulator (`python -m simulators
# carriers`, port 8102); production sets each carrier's base URL and credentials.
CARRIER_SIMULATOR_URL = env("CARRIER_SIMULATOR_URL", default="http://127.0.0.1:8102")
SHIPPING_CARRIERS = env.list("SHIPPING_CARRIERS", default=["fedex", "ups", "dhl"])
FEDEX_API_URL = env("FEDEX_API_URL", default=f"{CARRIER_SIMULATOR_URL}/fedex")
FEDEX_CLIENT_ID = env("FEDEX_CLIENT_ID", default="sim-fedex-client")
FEDEX_CLIENT_SECRET = env("FEDEX_CLIENT_SECRET", default="sim-fedex-secret")
FEDEX_ACCOUNT_NUMBER = env("FEDEX_ACCOUNT_NUMBER", default="740561073")
FEDEX_WEBHOOK_SECRET = env("FEDEX_WEBHOOK_SECRET", default="sim-fedex-webhook-token")
UPS_API_URL = env("UPS_API_URL", default=f"{CARRIER_SIMULATOR_URL}/ups")
UPS_CLIENT_ID = env("UPS_CLIENT_ID", default="sim-ups-client")
UPS_CLIENT_SECRET = env("UPS_CLIENT_SECRET", default="sim-ups-secret")
UPS_ACCOUNT_NUMBER = env("UPS_ACCOUNT_NUMBER", default="A1B2C3")
UPS_WEBHOOK_CREDENTIAL = env("UPS_WEBHOOK_CREDENTIAL", default="sim-ups-track-alert-credential")
DHL_API_URL = env("DHL_API_URL", default=f"{CARRIER_SIMULATOR_URL}/dhl/mydhlapi")
DHL_API_KEY = env("DHL_API_KEY", default="sim-dhl-key")
DHL_API_SECRET = env("DHL_API_SECRET", default="sim-dhl-secret")
DHL_ACCOUNT_NUMBER = env("DHL_ACCOUNT_NUMBER", default="123456789")
DHL_WEBHOOK_SECRET = env("DHL_WEBHOOK_SECRET", default="sim-dhl-push-secret")
CARRIER_TIMEOUT_SECONDS = env.float("CARRIER_TIMEOUT_SECONDS", default=10.0)
# Where parcels leave from (labels and rates).
SHIPPING_ORIGIN = {
    "name": env("SHIPPING_ORIGIN_NAME", default="Commerce Warehouse"),
    "line1": env("SHIPPING_ORIGIN_LINE1", default="500 Logistics Way"),
    "city": env("SHIPPING_ORIGIN_CITY", default="Memphis"),
    "region": env("SHIPPING_ORIGIN_REGION", default="TN"),
    "postal_code": env("SHIPPING_ORIGIN_POSTAL_CODE", default="38118"),
    "country": env("SHIPPING_ORIGIN_COUNTRY", default="US"),
    "phone": env("SHIPPING_ORIGIN_PHONE", default="+19015550100"),
}
# Orders from this subtotal up ship free ("" = never free).
SHIPPING_FREE_THRESHOLD = (Decimal(env("SHIPPING_FREE_THRESHOLD", default="100.00"))
                           if env("SHIPPING_FREE_THRESHOLD", default="100.00") else None)
SHIPPING_QUOTE_TTL_SECONDS = env.int("SHIPPING_QUOTE_TTL_SECONDS", default=900)
SHIPPING_RATES_CACHE_SECONDS = env.int("SHIPPING_RATES_CACHE_SECONDS", default=60)
# Checkout without a shipping quote: refused when true, else shipping is 0.00.
SHIPPING_QUOTE_REQUIRED = env.bool("SHIPPING_QUOTE_REQUIRED", default=False)
SHIPPING_DEFAULT_ITEM_WEIGHT_KG = Decimal(env("SHIPPING_DEFAULT_ITEM_WEIGHT_KG", default="0.5"))
# Poll the carrier for shipments in transit that heard nothing for this long.
SHIPPING_TRACKING_STALE_SECONDS = env.int("SHIPPING_TRACKING_STALE_SECONDS", default=1800)
# Signed webhooks with a timestamp (DHL) older or newer than this are refused.
SHIPPING_WEBHOOK_TOLERANCE_SECONDS = env.int("SHIPPING_WEBHOOK_TOLERANCE_SECONDS", default=300)
# Returns: how long after delivery a customer may ask, and when shipping is refunded
# with the goods: never | full_return (the return that brings the last unit back) |
# proportional (each return its share of the goods' value).
RETURN_WINDOW_DAYS = env.int("RETURN_WINDOW_DAYS", default=30)
RETURN_REFUND_SHIPPING = env("RETURN_REFUND_SHIPPING", default="full_return")
