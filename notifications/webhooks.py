"""Webhooks to subscribers: endpoints, one delivery per (endpoint, event), signed POSTs,
retries with exponential backoff, an attempt log, and endpoints disabled after
WEBHOOK_DISABLE_AFTER_FAILURES failures in a row (staff re-enable them).

Ordering: deliveries of one aggregate (one order) to one endpoint go out one at a time in
aggregate-version order: the next waits while an earlier one is pending (retrying), so a
receiver that was down gets them, in order, once it is back. Every payload also carries
`aggregate_version` (and `event_id`): delivery is at-least-once (a retry after a timeout
the receiver did act on), so receivers drop versions they have already applied.

The POST happens outside any transaction: claim (conditional UPDATE with a lease), send,
then record the attempt and its outcome in one short transaction."""

import json
import logging
import secrets
import time
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from commerce.core import metrics
from commerce.core.errors import NotFound, ValidationFailed
from commerce.core.http import HttpService
from notifications import signature
from notifications.webhook_models import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEndpoint,
)

logger = logging.getLogger(__name__)

PENDING = WebhookDeliveryStatus.PENDING
CLAIM_MARGIN_SECONDS = 30
USER_AGENT = "commerce-webhooks/1"


# --- endpoints -------------------------------------------------------------------------------
def webhook_endpoint_create(*, name: str, url: str, event_types: list[str],
                            secret: str | None = None) -> WebhookEndpoint:
    _check_event_types(event_types)
    return WebhookEndpoint.objects.create(
        name=name, url=url, event_types=list(dict.fromkeys(event_types)),
        secret=secret or f"whsec_{secrets.token_urlsafe(24)}")


def webhook_endpoint_update(*, endpoint_id, **changes) -> WebhookEndpoint:
    if "event_types" in changes:
        _check_event_types(changes["event_types"])
    with transaction.atomic():
        endpoint = _lock(endpoint_id)
        for field in ("name", "url", "event_types", "secret"):
            if changes.get(field) is not None:
                setattr(endpoint, field, changes[field])
        endpoint.save()
        return endpoint


def webhook_endpoint_enable(*, endpoint_id) -> WebhookEndpoint:
    """Staff: deliver again (the pending deliveries go out on the next sweep, oldest first)."""
    with transaction.atomic():
        endpoint = _lock(endpoint_id)
        endpoint.is_active, endpoint.consecutive_failures = True, 0
        endpoint.disabled_at, endpoint.disabled_reason = None, ""
        endpoint.save()
        transaction.on_commit(_enqueue_sweep, robust=True)
        return endpoint


def webhook_endpoint_disable(*, endpoint_id, reason: str = "disabled by staff"
                             ) -> WebhookEndpoint:
    with transaction.atomic():
        endpoint = _lock(endpoint_id)
        endpoint.is_active = False
        endpoint.disabled_at, endpoint.disabled_reason = timezone.now(), reason[:300]
        endpoint.save()
        return endpoint


def webhook_delivery_retry(*, delivery_id) -> WebhookDelivery:
    """Staff: try a delivery that was given up again (it rejoins its aggregate's queue)."""
    updated = WebhookDelivery.objects.filter(pk=delivery_id).exclude(status=PENDING).update(
        status=PENDING, attempts=0, next_attempt_at=None, claimed_until=None)
    delivery = WebhookDelivery.objects.filter(pk=delivery_id).first()
    if delivery is None:
        raise NotFound("Webhook delivery not found.")
    if updated:
        transaction.on_commit(
            lambda: _enqueue(delivery.endpoint_id, delivery.aggregate_id), robust=True)
    return delivery


# --- creating deliveries (the stream consumer) ------------------------------------------------
def payload_for(envelope: dict) -> dict:
    return {
        "event_id": envelope["event_id"], "event_type": envelope["event_type"],
        "event_version": envelope.get("event_version", 1),
        "aggregate_type": envelope["aggregate_type"], "aggregate_id": envelope["aggregate_id"],
        "aggregate_version": envelope["version"], "created_at": envelope["created_at"],
        "data": envelope.get("data") or {},
        "correlation_id": (envelope.get("metadata") or {}).get("correlation_id"),
    }


def endpoints_for(event_type: str) -> list[WebhookEndpoint]:
    return [e for e in WebhookEndpoint.objects.filter(is_active=True) if e.wants(event_type)]


def webhook_deliveries_create(*, envelope: dict, endpoints: list[WebhookEndpoint]) -> int:
    created = 0
    for endpoint in endpoints:
        _, is_new = WebhookDelivery.objects.get_or_create(
            endpoint=endpoint, event_id=envelope["event_id"],
            defaults={"event_type": envelope["event_type"],
                      "aggregate_type": envelope["aggregate_type"],
                      "aggregate_id": envelope["aggregate_id"],
                      "aggregate_version": envelope["version"], "payload": payload_for(envelope)})
        if is_new:
            created += 1
            endpoint_id, aggregate_id = endpoint.pk, envelope["aggregate_id"]
            transaction.on_commit(lambda e=endpoint_id, a=aggregate_id: _enqueue(e, a),
                                  robust=True)
    return created


# --- sending ------------------------------------------------------------------------------------
class WebhookClient(HttpService):
    """One pooled client for every endpoint (absolute URLs); a single try per attempt: our
    retries are the delivery's own, with backoff, recorded one by one."""

    service = "webhook"

    def post(self, url: str, body: bytes, headers: dict) -> tuple[int | None, str, str]:
        started = time.perf_counter()
        try:
            response = self.client.post(url, content=body, headers=headers)
        except Exception as exc:  # noqa: BLE001 - every failure is an attempt to log
            self._observe("deliver", "connect_error", started)
            return None, f"{type(exc).__name__}: {exc}"[:500], ""
        outcome = "ok" if response.status_code < 300 else "refused"
        self._observe("deliver", outcome, started)
        return response.status_code, "", response.text[:500]


_client: WebhookClient | None = None


def client() -> WebhookClient:
    global _client
    if _client is None:
        _client = WebhookClient(base_url="", timeout=settings.WEBHOOK_TIMEOUT_SECONDS)
    return _client


def webhook_deliver_queue(*, endpoint_id, aggregate_id, limit: int = 200) -> int:
    """Deliver the endpoint's pending deliveries of one aggregate, oldest version first,
    stopping at the first that fails (it is retried later; the rest wait behind it).
    Returns how many were delivered."""
    delivered = 0
    for _ in range(limit):
        endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id, is_active=True).first()
        head = (WebhookDelivery.objects.filter(endpoint_id=endpoint_id, aggregate_id=aggregate_id,
                                               status=PENDING)
                .order_by("aggregate_version", "created_at").first())
        if endpoint is None or head is None:
            return delivered
        now = timezone.now()
        if head.next_attempt_at and head.next_attempt_at > now:
            return delivered
        lease = now + timedelta(seconds=settings.WEBHOOK_TIMEOUT_SECONDS + CLAIM_MARGIN_SECONDS)
        claimed = (WebhookDelivery.objects.filter(pk=head.pk, status=PENDING)
                   .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
                   .update(claimed_until=lease, attempts=F("attempts") + 1))
        if not claimed:
            return delivered
        if not _attempt(endpoint, head, attempt=head.attempts + 1):
            return delivered
        delivered += 1
    return delivered


def webhook_queues_due(*, limit: int = 500) -> list[tuple]:
    """(endpoint, aggregate) pairs of active endpoints with a pending delivery that is due:
    the beat sweep runs each queue (retries, lost task messages, re-enabled endpoints)."""
    now = timezone.now()
    return list(WebhookDelivery.objects.filter(status=PENDING, endpoint__is_active=True)
                .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
                .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
                .order_by("endpoint_id", "aggregate_id")  # not the model's: DISTINCT uses it
                .values_list("endpoint_id", "aggregate_id").distinct()[:limit])


def backoff(attempt: int) -> float:
    return min(settings.WEBHOOK_RETRY_BACKOFF_SECONDS * 2 ** max(attempt - 1, 0),
               settings.WEBHOOK_RETRY_BACKOFF_MAX_SECONDS)


def _attempt(endpoint: WebhookEndpoint, delivery: WebhookDelivery, *, attempt: int) -> bool:
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
    headers = {
        "Content-Type": "application/json", "User-Agent": USER_AGENT,
        signature.HEADER: signature.sign(secret=endpoint.secret, body=body),
        "Commerce-Event-Id": str(delivery.event_id), "Commerce-Event-Type": delivery.event_type,
        "Commerce-Delivery-Id": str(delivery.pk), "Commerce-Delivery-Attempt": str(attempt),
    }
    started = time.perf_counter()
    status, error, excerpt = client().post(endpoint.url, body, headers)
    elapsed = time.perf_counter() - started
    ok = status is not None and 200 <= status < 300
    if not ok and not error:
        error = f"HTTP {status}"
    _record(endpoint, delivery, attempt=attempt, ok=ok, status=status, error=error,
            excerpt=excerpt, elapsed=elapsed)
    return ok


def _record(endpoint, delivery, *, attempt, ok, status, error, excerpt, elapsed) -> None:
    now = timezone.now()
    metrics.WEBHOOK_ATTEMPT_SECONDS.observe(elapsed)
    with transaction.atomic():
        WebhookAttempt.objects.create(delivery=delivery, attempt=attempt, attempted_at=now,
                                      status_code=status, latency_ms=int(elapsed * 1000),
                                      error=error, response_excerpt=excerpt)
        rows = WebhookDelivery.objects.filter(pk=delivery.pk, status=PENDING)
        if ok:
            rows.update(status=WebhookDeliveryStatus.DELIVERED, delivered_at=now,
                        claimed_until=None, last_status_code=status, last_error="")
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(consecutive_failures=0)
            metrics.WEBHOOK_ATTEMPTS.labels(outcome="delivered").inc()
            return
        if attempt >= settings.WEBHOOK_MAX_ATTEMPTS:
            rows.update(status=WebhookDeliveryStatus.FAILED, claimed_until=None,
                        last_status_code=status, last_error=error)
            transaction.on_commit(lambda: _enqueue(endpoint.pk, delivery.aggregate_id),
                                  robust=True)
        else:
            rows.update(next_attempt_at=now + timedelta(seconds=backoff(attempt)),
                        claimed_until=None, last_status_code=status, last_error=error)
        metrics.WEBHOOK_ATTEMPTS.labels(outcome="failed").inc()
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
            consecutive_failures=F("consecutive_failures") + 1)
        disabled = (WebhookEndpoint.objects.filter(
            pk=endpoint.pk, is_active=True,
            consecutive_failures__gte=settings.WEBHOOK_DISABLE_AFTER_FAILURES)
            .update(is_active=False, disabled_at=now, disabled_reason=(
                f"{settings.WEBHOOK_DISABLE_AFTER_FAILURES} failed attempts in a row; "
                f"last: {error}")[:300]))
    if disabled:
        metrics.WEBHOOK_ATTEMPTS.labels(outcome="disabled").inc()
        logger.error("webhook endpoint %s disabled after repeated failures", endpoint.pk,
                     extra={"data": {"url": endpoint.url, "error": error}})


def _lock(endpoint_id) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.select_for_update().filter(pk=endpoint_id).first()
    if endpoint is None:
        raise NotFound("Webhook endpoint not found.")
    return endpoint


def _check_event_types(event_types) -> None:
    if (not isinstance(event_types, list) or not event_types
            or not all(isinstance(t, str) and t.strip() for t in event_types)):
        raise ValidationFailed(details={"event_types": [
            'A non-empty list of event types, or ["*"].']})


def _enqueue(endpoint_id, aggregate_id) -> None:
    from notifications.tasks import deliver_webhooks

    try:
        deliver_webhooks.apply_async(args=[str(endpoint_id), str(aggregate_id)], retry=False)
    except Exception as exc:  # noqa: BLE001 - the sweep delivers it
        metrics.WAKEUP_FAILURES.labels(task=deliver_webhooks.name).inc()
        logger.warning("could not enqueue webhook delivery: %s", exc)


def _enqueue_sweep() -> None:
    from notifications.tasks import webhooks_due

    try:
        webhooks_due.apply_async(retry=False)
    except Exception as exc:  # noqa: BLE001 - beat runs the sweep anyway
        metrics.WAKEUP_FAILURES.labels(task=webhooks_due.name).inc()
        logger.warning("could not enqueue the webhook sweep: %s", exc)
