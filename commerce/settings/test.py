"""pytest: the same real PostgreSQL and Redis as production, isolated by name/db number."""

from urllib.parse import urlparse

from .base import *  # noqa: F401,F403
from .base import CACHES, DATABASES, REDIS_URL, env, logging_config

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only
DATABASES["default"]["CONN_MAX_AGE"] = 0
DATABASES["default"]["TEST"] = {"NAME": env("TEST_DATABASE_NAME", default="test_commerce")}

# A Redis database of its own so tests never touch a developer's carts or broker queue:
# TEST_REDIS_URL, by default db 15 on the server of REDIS_URL. Tests flush it.
REDIS_URL = env("TEST_REDIS_URL", default=urlparse(REDIS_URL)._replace(path="/15").geturl())
CACHES["default"]["LOCATION"] = REDIS_URL
CACHES["default"]["KEY_PREFIX"] = "commerce-test"
CELERY_BROKER_URL = REDIS_URL
# Pub/sub channels are server-wide (not per db number): name it after the db, so test runs
# side by side on one Redis never hear each other's events.
EVENTS_PUBSUB_CHANNEL = f"commerce-test-{REDIS_URL.rsplit('/', 1)[-1]}.events"
EVENTS_STREAM_KEY = "commerce-test:events"

# A retried saga step is due again at once, so eager tests run it within the same run;
# tests of the backoff itself set these explicitly.
SAGA_RETRY_BACKOFF_SECONDS = env.float("SAGA_RETRY_BACKOFF_SECONDS", default=0.0)
SAGA_RETRY_BACKOFF_MAX_SECONDS = env.float("SAGA_RETRY_BACKOFF_MAX_SECONDS", default=0.0)

# Unit tests run tasks in-process; integration tests start a real worker (tests/integration).
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
LOGGING = logging_config("WARNING")  # the real JSON format, quieter

# A tiny event-sourced app that gives the kernel's tests a real projection table.
INSTALLED_APPS = [*INSTALLED_APPS, "tests.testapp"]  # noqa: F405
