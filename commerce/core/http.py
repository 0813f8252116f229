"""Outbound HTTP for adapters to third parties (payment processor, carriers, SMS/push
providers, Slack, webhook subscribers): one client pattern instead of one per adapter.

`HttpService` owns an httpx.Client per process (keep-alive pool, explicit timeouts) and a
`call()` that retries transient failures (connection errors, timeouts, 429, 5xx) a bounded
number of times with exponential backoff and jitter, then raises `ExternalUnavailable`
(a ServiceUnavailable: transient for sagas and tasks, 503 for a request). A 4xx that is
not 429 is the provider refusing the request: `ExternalRefused` carries its status and body
so the adapter can map it to our own error code. Every call is counted and timed in
`commerce_external_calls_total` / `commerce_external_call_seconds` by service, operation and
outcome.

Mutating calls must carry an idempotency key in whatever form the provider takes it
(Stripe's `Idempotency-Key` header, a carrier's transaction id): that is what makes a retry
after a timeout safe. Calls happen outside database transactions (ARCHITECTURE §4)."""

import functools
import logging
import os
import random
import ssl
import threading
import time
from dataclasses import dataclass
from typing import Any

import certifi
import httpx

from commerce.core import metrics
from commerce.core.errors import DomainError, ErrorCode, ServiceUnavailable

logger = logging.getLogger(__name__)

TRANSIENT_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


class ExternalUnavailable(ServiceUnavailable):
    """The provider did not answer usefully (down, timed out, 5xx) after our retries; the
    outcome of a mutating call is unknown, so callers retry later with the same key."""

    code = ErrorCode.SERVICE_UNAVAILABLE
    default_message = "An external service is unavailable; retry later."


class ExternalRefused(DomainError):
    """The provider answered 4xx: it refuses this request as sent. Adapters map it."""

    code = ErrorCode.CONFLICT
    http_status = 502
    default_message = "An external service refused the request."

    def __init__(self, message: str | None = None, *, status: int, body: Any,
                 details: dict | None = None):
        super().__init__(message, details=details)
        self.status = status
        self.body = body


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3            # total tries, the first included
    backoff_seconds: float = 0.2  # base of the exponential backoff (x2 per retry, +jitter)
    max_backoff_seconds: float = 2.0

    def delay(self, attempt: int) -> float:
        base = min(self.backoff_seconds * 2 ** (attempt - 1), self.max_backoff_seconds)
        return base * (0.5 + random.random() / 2)


class HttpService:
    """Base of an adapter: set `service` (metric label) and pass base_url/timeouts."""

    service = "external"
    # Statuses worth another try; a provider may add its own (Stripe: 409 key in use).
    transient_statuses: frozenset[int] = TRANSIENT_STATUSES

    def __init__(self, *, base_url: str, timeout: float = 5.0, connect_timeout: float = 2.0,
                 retry: RetryPolicy | None = None, headers: dict[str, str] | None = None,
                 auth: httpx.Auth | tuple[str, str] | None = None, max_connections: int = 100,
                 verify: ssl.SSLContext | str | bool | None = None):
        self.base_url = base_url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self._client_options = {
            "base_url": self.base_url,
            "timeout": httpx.Timeout(timeout, connect=connect_timeout),
            "headers": headers or {},
            "auth": auth,
            "limits": httpx.Limits(max_connections=max_connections,
                                   max_keepalive_connections=max_connections),
        }
        self._verify = verify
        self._local = threading.local()

    @property
    def client(self) -> httpx.Client:
        # One client per thread: httpx.Client is thread-safe, but its pool scans every
        # connection on each request, so many threads sharing one pool pay for each other;
        # a fork (Celery prefork) must not inherit a pool, so every process builds its own.
        # The SSL context is shared (building one parses the CA bundle: milliseconds).
        client = getattr(self._local, "client", None)
        if client is None or self._local.pid != os.getpid():
            verify = shared_ssl_context() if self._verify is None else self._verify
            client = httpx.Client(**self._client_options, verify=verify)
            self._local.client, self._local.pid = client, os.getpid()
        return client

    def call(self, operation: str, method: str, path: str, *, json: Any = None,
             data: Any = None, params: dict | None = None, headers: dict | None = None,
             retry: RetryPolicy | None = None) -> httpx.Response:
        """One logical call with bounded retries; returns the 2xx/3xx response."""
        policy = retry or self.retry
        last: Exception | None = None
        for attempt in range(1, policy.attempts + 1):
            started = time.perf_counter()
            try:
                response = self.client.request(method, path, json=json, data=data,
                                               params=params, headers=headers)
            except httpx.TimeoutException as exc:
                last, outcome = exc, "timeout"
            except httpx.TransportError as exc:
                last, outcome = exc, "connect_error"
            else:
                if response.status_code < 400:
                    self._observe(operation, "ok", started)
                    return response
                if response.status_code not in self.transient_statuses:
                    self._observe(operation, "refused", started)
                    raise ExternalRefused(
                        f"{self.service} refused {operation} ({response.status_code}).",
                        status=response.status_code, body=_body(response),
                        details={"service": self.service, "status": response.status_code})
                last = ExternalUnavailable(
                    f"{self.service} answered {response.status_code} to {operation}.")
                outcome = "server_error"
            self._observe(operation, outcome, started)
            if attempt < policy.attempts:
                delay = policy.delay(attempt)
                logger.info("retrying %s %s in %.2fs after %s", self.service, operation,
                            delay, outcome)
                time.sleep(delay)
        raise ExternalUnavailable(
            f"{self.service} did not answer {operation} usefully after "
            f"{policy.attempts} attempts.",
            details={"service": self.service, "operation": operation,
                     "error": type(last).__name__ if last else None}) from last

    def _observe(self, operation: str, outcome: str, started: float) -> None:
        metrics.EXTERNAL_CALLS.labels(service=self.service, operation=operation,
                                      outcome=outcome).inc()
        metrics.EXTERNAL_CALL_SECONDS.labels(service=self.service, operation=operation
                                             ).observe(time.perf_counter() - started)


@functools.cache
def shared_ssl_context() -> ssl.SSLContext:
    """The process's client SSL context (certifi's CA bundle, as httpx's default), built
    once: every pool thread's client uses it. Safe across fork: it holds no connection."""
    return ssl.create_default_context(cafile=certifi.where())


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text[:2000]
