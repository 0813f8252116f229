"""Thin, idempotent Celery tasks: each calls a service that claims its work with a
conditional UPDATE first, so a duplicate message does nothing."""

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from notifications import delivery, webhooks
from notifications.models import ProcessedEvent

PROCESSED_EVENT_RETENTION = timedelta(days=7)


@shared_task(name="notifications.send_delivery", ignore_result=True, acks_late=True)
def send_delivery(delivery_id: str) -> str:
    return delivery.delivery_send(delivery_id=delivery_id)


@shared_task(name="notifications.deliveries_due", ignore_result=True)
def deliveries_due() -> int:
    due = delivery.deliveries_due()
    for delivery_id in due:
        send_delivery.apply_async(args=[str(delivery_id)])
    return len(due)


@shared_task(name="notifications.deliver_webhooks", ignore_result=True, acks_late=True)
def deliver_webhooks(endpoint_id: str, aggregate_id: str) -> int:
    return webhooks.webhook_deliver_queue(endpoint_id=endpoint_id, aggregate_id=aggregate_id)


@shared_task(name="notifications.webhooks_due", ignore_result=True)
def webhooks_due() -> int:
    queues = webhooks.webhook_queues_due()
    for endpoint_id, aggregate_id in queues:
        deliver_webhooks.apply_async(args=[str(endpoint_id), str(aggregate_id)])
    return len(queues)


@shared_task(name="notifications.prune_processed_events", ignore_result=True)
def prune_processed_events() -> int:
    """Dedupe rows outlive any redelivery by far (the stream is capped; pending entries are
    claimed within minutes)."""
    cutoff = timezone.now() - PROCESSED_EVENT_RETENTION
    deleted, _ = ProcessedEvent.objects.filter(processed_at__lt=cutoff).delete()
    return deleted
