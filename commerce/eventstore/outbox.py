"""Outbox relay: publishes stored events to Redis, at least once.

Rows are claimed with FOR UPDATE SKIP LOCKED so several relays can run side by side without
publishing the same row concurrently; a row is marked published in the same transaction that
claimed it, after Redis accepted it. A crash between the two republishes the row: consumers
dedupe by `event_id`."""

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from commerce.core import metrics, wakeups
from commerce.core.bulk import plain_array_literal
from commerce.core.redis import redis_client
from commerce.eventstore.models import OutboxMessage

logger = logging.getLogger(__name__)

RELAY_PENDING_KEY = "eventstore:relay-requested"
PUBLISHED_RETENTION = timedelta(hours=24)


# Raw SQL on the relay's path: rows as tuples, the payload as the stored JSON text (published
# as it is, not decoded and encoded again), ids as one array (one statement text whatever
# the batch's size, so it stays prepared).
_CLAIM_SQL = ("SELECT id, event_id, topic, payload::text FROM event_outbox "
              "WHERE published_at IS NULL ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED")
_PUBLISHED_SQL = ("UPDATE event_outbox SET published_at = %s, attempts = attempts + 1 "
                  "WHERE id = ANY(%s::bigint[])")
_FAILED_SQL = ("UPDATE event_outbox SET attempts = attempts + 1, last_error = %s "
               "WHERE id = ANY(%s::bigint[])")


def relay_batch(*, batch_size: int | None = None) -> int:
    """Publish up to one batch of unpublished rows; returns how many were published."""
    batch_size = batch_size or settings.OUTBOX_BATCH_SIZE
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_CLAIM_SQL, [batch_size])
        rows = cursor.fetchall()
        if not rows:
            return 0
        ids = plain_array_literal([row[0] for row in rows])
        try:
            _publish(rows)
        except Exception as exc:  # Redis down: count the attempt, keep the rows pending
            metrics.OUTBOX_FAILURES.inc()
            logger.warning("outbox publish failed", extra={"error": str(exc)})
            cursor.execute(_FAILED_SQL, [str(exc)[:2000], ids])
            return 0
        cursor.execute(_PUBLISHED_SQL, [timezone.now(), ids])
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
    """Ask a worker to relay soon, once the current transaction commits
    (commerce.core.wakeups: one queued request at a time, never raises; beat relays
    anyway)."""
    from commerce.eventstore.tasks import relay_outbox

    wakeups.request_after_commit(relay_outbox, flag=RELAY_PENDING_KEY)


def _publish(rows: list[tuple]) -> None:
    """rows: (id, event_id, topic, payload as JSON text)."""
    client = redis_client()
    pipe = client.pipeline(transaction=False)
    for _, event_id, topic, body in rows:
        pipe.xadd(
            settings.EVENTS_STREAM_KEY,
            {"event_id": str(event_id), "topic": topic, "payload": body},
            maxlen=settings.EVENTS_STREAM_MAXLEN,
            approximate=True,
        )
        pipe.publish(settings.EVENTS_PUBSUB_CHANNEL, body)
    pipe.execute()

