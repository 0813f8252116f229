"""Outbox relay: publishes stored events to Redis, at least once.

Rows are claimed with FOR UPDATE SKIP LOCKED so several relays can run side by side without
publishing the same row concurrently; a row is marked published in the same transaction that
claimed it, after Redis accepted it. A crash between the two republishes the row: consumers
dedupe by `event_id`."""

import json
import logging
import time
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from commerce.core import metrics, wakeups
from commerce.core.redis import redis_client
from commerce.eventstore.models import OutboxMessage

logger = logging.getLogger(__name__)

RELAY_PENDING_KEY = "eventstore:relay-requested"
PUBLISHED_RETENTION = timedelta(hours=24)


def relay_batch(*, batch_size: int | None = None) -> int:
    """Publish up to one batch of unpublished rows; returns how many were published."""
    batch_size = batch_size or settings.OUTBOX_BATCH_SIZE
    with transaction.atomic():
        rows = list(
            OutboxMessage.objects.filter(published_at__isnull=True)
            .order_by("id")
            .select_for_update(skip_locked=True)[:batch_size]
        )
        if not rows:
            return 0
        try:
            _publish(rows)
        except Exception as exc:  # Redis down: count the attempt, keep the rows pending
            metrics.OUTBOX_FAILURES.inc()
            logger.warning("outbox publish failed", extra={"error": str(exc)})
            OutboxMessage.objects.filter(pk__in=[r.pk for r in rows]).update(
                attempts=F("attempts") + 1, last_error=str(exc)[:2000]
            )
            return 0
        OutboxMessage.objects.filter(pk__in=[r.pk for r in rows]).update(
            published_at=timezone.now(), attempts=F("attempts") + 1
        )
    metrics.OUTBOX_PUBLISHED.inc(len(rows))
    return len(rows)


# The oldest rows, by primary key (the order they were written in): a prune looks at no more
# than this many per statement, whatever the table's size. A filter on published_at alone
# (not indexed: an index would cost every publish an index write) read the whole table, and
# the relay runs it after every drain.
PRUNE_BATCH = 2000
PRUNE_INTERVAL_SECONDS = 10.0
_last_prune = float("-inf")  # per process


def relay_all(*, max_batches: int = 1000) -> int:
    """Drain the outbox (bounded), then prune rows published long ago."""
    global _last_prune
    total = 0
    for _ in range(max_batches):
        published = relay_batch()
        total += published
        if published == 0:
            break
    if time.monotonic() - _last_prune >= PRUNE_INTERVAL_SECONDS:  # not after every drain
        _last_prune = time.monotonic()
        prune_published()
    metrics.OUTBOX_PENDING.set(OutboxMessage.objects.filter(published_at__isnull=True).count())
    return total


def prune_published(*, max_batches: int = 100) -> int:
    """Delete rows published more than PUBLISHED_RETENTION ago, oldest first, in bounded
    batches from the head of the table; stops at the first batch with nothing to delete
    (the head is then younger than the retention, or not yet published)."""
    cutoff = timezone.now() - PUBLISHED_RETENTION
    deleted = 0
    for _ in range(max_batches):
        with connection.cursor() as cursor:
            cursor.execute(
                "WITH head AS (SELECT id, published_at FROM event_outbox ORDER BY id LIMIT %s) "
                "DELETE FROM event_outbox o USING head WHERE o.id = head.id "
                "AND head.published_at < %s", [PRUNE_BATCH, cutoff])
            batch = cursor.rowcount
        deleted += batch
        if batch == 0:
            break
    return deleted


def request_relay() -> None:
    """Ask a worker to relay soon (commerce.core.wakeups: one queued request at a time,
    never raises; beat relays anyway)."""
    from commerce.eventstore.tasks import relay_outbox

    wakeups.request(relay_outbox, flag=RELAY_PENDING_KEY)


def _publish(rows: list[OutboxMessage]) -> None:
    client = redis_client()
    pipe = client.pipeline(transaction=False)
    for row in rows:
        body = json.dumps(row.payload, separators=(",", ":"))
        pipe.xadd(
            settings.EVENTS_STREAM_KEY,
            {"event_id": str(row.event_id), "topic": row.topic, "payload": body},
            maxlen=settings.EVENTS_STREAM_MAXLEN,
            approximate=True,
        )
        pipe.publish(settings.EVENTS_PUBSUB_CHANNEL, body)
    pipe.execute()

