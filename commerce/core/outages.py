"""What "a backing service is down" looks like, in one place.

The API answers these with 503 `service_unavailable` and `Retry-After` (never 500), wherever
they surface: DRF views (commerce.api.exceptions), Django views, middleware and the admin
(commerce.api.middleware). Code on a read path that merely *uses* Redis as an optimisation
(throttle counters) fails open with `fail_open`, so order and inventory reads keep working
while Redis is down."""

import logging
from collections.abc import Callable
from typing import TypeVar

import psycopg
import redis
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django_redis.exceptions import ConnectionInterrupted

logger = logging.getLogger(__name__)

POSTGRESQL = "postgresql"
REDIS = "redis"

# Django wraps psycopg's errors in its own; raw psycopg ones can still escape from code that
# talks to the driver directly.
DATABASE_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError, InterfaceError, psycopg.OperationalError, psycopg.InterfaceError,
)
REDIS_ERRORS: tuple[type[BaseException], ...] = (
    redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, ConnectionInterrupted,
)

T = TypeVar("T")


def unavailable_service(exc: BaseException | None) -> str | None:
    """Which backing service `exc` (or an exception it was raised from) says is down:
    "postgresql", "redis", or None when it is not an outage."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, DATABASE_ERRORS):
            return POSTGRESQL
        if isinstance(exc, REDIS_ERRORS):
            return REDIS
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None


def retry_after_seconds() -> int:
    return settings.OUTAGE_RETRY_AFTER_SECONDS


def fail_open(operation: str, call: Callable[[], T], default: T) -> T:
    """Run an optional Redis-backed `call`; when Redis is unreachable, log a warning and
    return `default` instead of failing the request."""
    try:
        return call()
    except REDIS_ERRORS as exc:
        logger.warning("redis unavailable, %s skipped (failing open): %s", operation,
                       exc.__class__.__name__)
        return default
