"""Deliveries: created by the consumer, sent by Celery tasks, updated by provider receipts.

States: queued → sent → delivered | failed | bounced (queued → failed when the provider
refuses it or the attempts run out). Sending never happens inside a transaction:
1. claim (one conditional UPDATE): only a queued delivery that is due and not held by
   another sender; the claim holds it for CLAIM_SECONDS and counts the attempt;
2. the provider call, no transaction, no lock;
3. the outcome (another conditional UPDATE).
A duplicate task finds nothing to claim. A sender killed between 1 and 3 leaves the claim
to expire, and the sweep sends again with the same idempotency key (providers that honour
it, like our SMS and push simulators, deduplicate; SMTP cannot, so a crash exactly there
can repeat an email: at-least-once, never silently lost)."""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from commerce.core import metrics
from commerce.core.errors import NotFound
from notifications.channels import Outgoing, SendRefused, adapter_for
from notifications.models import Delivery, DeliveryStatus
from notifications.rendering import render
from notifications.triggers import Planned

logger = logging.getLogger(__name__)

CLAIM_SECONDS = 120
RECEIPT_STATES = {"delivered": DeliveryStatus.DELIVERED, "failed": DeliveryStatus.FAILED,
                  "undelivered": DeliveryStatus.FAILED, "bounced": DeliveryStatus.BOUNCED}


def deliveries_create(*, envelope: dict, planned: list[Planned]) -> list[Delivery]:
    """Render and store the planned messages of one event (inside the consumer's
    transaction); each new one is sent once that transaction commits. One that exists
    already (same event, channel, recipient) is left alone."""
    created = []
    for p in planned:
        message = render(kind=p.kind, channel=p.channel, language=p.language, context=p.context)
        delivery, is_new = Delivery.objects.get_or_create(
            event_id=envelope["event_id"], channel=p.channel, recipient=p.recipient,
            defaults={"event_type": envelope["event_type"], "kind": p.kind,
                      "user_id": p.user_id, "order_id": p.order_id, "language": p.language,
                      "subject": message.subject[:300], "body": message.body,
                      "html_body": message.html, "unsubscribe_url": p.unsubscribe_url})
        if is_new:
            created.append(delivery)
            _after_commit_send(delivery)
    return created


def delivery_send(*, delivery_id) -> str:
    """Send one delivery if it is due; returns what happened (for logs and tests)."""
    now = timezone.now()
    claimed = (Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.QUEUED)
               .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
               .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
               .update(claimed_until=now + timedelta(seconds=CLAIM_SECONDS),
                       attempts=F("attempts") + 1))
    if not claimed:
        return "skipped"
    delivery = Delivery.objects.get(pk=delivery_id)
    message = Outgoing(delivery_id=str(delivery.id), recipient=delivery.recipient,
                       subject=delivery.subject, body=delivery.body, html=delivery.html_body,
                       unsubscribe_url=delivery.unsubscribe_url)
    try:
        result = adapter_for(delivery.channel).send(message)
    except SendRefused as exc:
        _finish(delivery, DeliveryStatus.FAILED, error=str(exc))
        return "failed"
    except Exception as exc:  # noqa: BLE001 - transient: retried with backoff
        return _retry_or_fail(delivery, exc)
    status = DeliveryStatus.DELIVERED if result.delivered else DeliveryStatus.SENT
    fields = {"status": status, "provider_message_id": result.provider_message_id,
              "sent_at": timezone.now(), "claimed_until": None, "last_error": ""}
    if result.delivered:
        fields["finished_at"] = fields["sent_at"]
    Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.QUEUED).update(**fields)
    _count(delivery.channel, status)
    return str(status)


def deliveries_due(*, limit: int = 500) -> list:
    """Queued deliveries whose retry time has come (or whose task message was lost, or
    whose sender died holding the claim): the beat sweep sends them again."""
    now = timezone.now()
    return list(Delivery.objects.filter(status=DeliveryStatus.QUEUED)
                .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
                .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
                .filter(created_at__lte=now - timedelta(seconds=5))
                .order_by("created_at").values_list("pk", flat=True)[:limit])


def delivery_resend(*, delivery_id) -> Delivery:
    """Staff: send this message again (a fresh attempt count); not while it is queued."""
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().filter(pk=delivery_id).first()
        if delivery is None:
            raise NotFound("Delivery not found.")
        if delivery.status != DeliveryStatus.QUEUED:
            delivery.status = DeliveryStatus.QUEUED
            delivery.attempts = 0
            delivery.resends += 1
            delivery.next_attempt_at = delivery.claimed_until = None
            delivery.sent_at = delivery.finished_at = None
            delivery.provider_message_id = delivery.last_error = ""
            delivery.save()
            _after_commit_send(delivery)
        return delivery


def delivery_apply_receipt(*, channel: str, provider_message_id: str, state: str,
                           error: str = "") -> str:
    """A provider's receipt: sent → delivered / failed / bounced. Returns "applied",
    "ignored" (an intermediate state, or a repeat), or raises NotFound for a message we do
    not know (yet: the provider retries)."""
    target = RECEIPT_STATES.get(state)
    queryset = Delivery.objects.filter(channel=channel, provider_message_id=provider_message_id)
    if not provider_message_id or not queryset.exists():
        raise NotFound("No delivery with this message id.")
    if target is None:
        return "ignored"
    updated = queryset.filter(status=DeliveryStatus.SENT).update(
        status=target, finished_at=timezone.now(), last_error=error[:2000])
    if not updated:
        return "ignored"
    _count(channel, target)
    return "applied"


# --- internals ---------------------------------------------------------------------------
def backoff(attempt: int) -> float:
    return min(settings.NOTIFICATIONS_RETRY_BACKOFF_SECONDS * 2 ** max(attempt - 1, 0),
               settings.NOTIFICATIONS_RETRY_BACKOFF_MAX_SECONDS)


def _retry_or_fail(delivery: Delivery, exc: Exception) -> str:
    error = f"{type(exc).__name__}: {exc}"
    if exc.__cause__ is not None:  # what the provider last said (e.g. its 503)
        error += f" ({exc.__cause__})"
    error = error[:2000]
    if delivery.attempts >= settings.NOTIFICATIONS_MAX_ATTEMPTS:
        _finish(delivery, DeliveryStatus.FAILED, error=f"gave up: {error}")
        return "failed"
    Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.QUEUED).update(
        next_attempt_at=timezone.now() + timedelta(seconds=backoff(delivery.attempts)),
        claimed_until=None, last_error=error)
    logger.warning("delivery %s will be retried", delivery.pk, extra={"data": {
        "channel": delivery.channel, "attempt": delivery.attempts, "error": error}})
    return "retrying"


def _finish(delivery: Delivery, status: str, *, error: str) -> None:
    Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.QUEUED).update(
        status=status, finished_at=timezone.now(), claimed_until=None, last_error=error[:2000])
    _count(delivery.channel, status)
    logger.warning("delivery %s %s", delivery.pk, status, extra={"data": {
        "channel": delivery.channel, "kind": delivery.kind, "error": error}})


def _after_commit_send(delivery: Delivery) -> None:
    delivery_id, channel = str(delivery.pk), delivery.channel

    def send():
        from notifications.tasks import send_delivery

        _count(channel, DeliveryStatus.QUEUED)
        try:
            send_delivery.apply_async(args=[delivery_id], retry=False)
        except Exception as exc:  # noqa: BLE001 - the sweep sends it; never fail the caller
            metrics.WAKEUP_FAILURES.labels(task=send_delivery.name).inc()
            logger.warning("could not enqueue delivery %s: %s", delivery_id, exc)

    transaction.on_commit(send, robust=True)


def _count(channel: str, status: str) -> None:
    metrics.NOTIFICATIONS.labels(channel=channel, state=str(status)).inc()
