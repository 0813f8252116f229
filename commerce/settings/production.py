"""Production: no defaults for secrets; refuses to start without them."""

from .base import *  # noqa: F401,F403
from .base import env

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY")  # required: raises ImproperlyConfigured if missing
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
PAYMENT_API_KEY = env("PAYMENT_API_KEY")  # required: the processor's live or test secret key
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
