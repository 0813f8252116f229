"""The notifications consumer group's handler: one stream entry → deliveries and webhook
deliveries, deduplicated by event id in the same transaction (see notifications/stream.py
for the consuming protocol, and docs/events.md)."""

import json
import logging

import redis
from django.conf import settings
from django.db import transaction

from notifications import triggers, webhooks
from notifications.delivery import deliveries_create
from notifications.models import ProcessedEvent
from notifications.stream import StreamConsumer

logger = logging.getLogger(__name__)


def handle(entry_id: str, fields: dict[str, str], *, group: str) -> str:
    """Returns the outcome: handled, duplicate, ignored (nothing to do) or malformed.
    Raises on a failure worth retrying (database down …): the entry stays pending."""
    try:
        envelope = json.loads(fields["payload"])
        event_id, event_type = envelope["event_id"], envelope["event_type"]
        envelope["aggregate_id"], envelope["version"]  # noqa: B018 - required keys
    except (KeyError, TypeError, ValueError):
        logger.error("malformed stream entry %s acknowledged without handling", entry_id,
                     extra={"data": {"fields": {k: v[:200] for k, v in fields.items()}}})
        return "malformed"
    endpoints = webhooks.endpoints_for(event_type)
    if event_type not in triggers.EVENT_TYPES and not endpoints:
        return "ignored"
    with transaction.atomic():
        _, first_time = ProcessedEvent.objects.get_or_create(
            consumer_group=group, event_id=event_id, defaults={"event_type": event_type})
        if not first_time:
            return "duplicate"
        deliveries_create(envelope=envelope, planned=triggers.plan(envelope))
        webhooks.webhook_deliveries_create(envelope=envelope, endpoints=endpoints)
    return "handled"


def redis_for_consumer(*, url: str | None = None, block_ms: int = 5000) -> redis.Redis:
    """A client of its own: the cache's client times out after 2 s, shorter than a
    blocking XREADGROUP."""
    return redis.Redis.from_url(url or settings.REDIS_URL, socket_timeout=block_ms / 1000 + 10,
                                socket_connect_timeout=5, health_check_interval=30)


def build_consumer(*, group: str | None = None, consumer: str | None = None,
                   client: redis.Redis | None = None, **options) -> StreamConsumer:
    group = group or settings.NOTIFICATIONS_CONSUMER_GROUP
    block_ms = options.get("block_ms", 5000)
    kwargs = {"consumer": consumer} if consumer else {}
    return StreamConsumer(
        client=client or redis_for_consumer(block_ms=block_ms),
        stream=settings.EVENTS_STREAM_KEY, group=group,
        handler=lambda entry_id, fields: handle(entry_id, fields, group=group),
        **kwargs, **options)
