"""Operator gauges: cheap queries run in one place, every OPS_COLLECT_INTERVAL_SECONDS, by the
beat process (ops.celery.BeatScheduler), the one singleton that is neither a web nor a worker
process. That choice is deliberate: gauges computed by a worker task would freeze exactly
when the workers are dead (the queue-depth alert would never see the queue grow), and with
several worker pods each would export its own, possibly stale, value.

Each check is independent: one failing (PostgreSQL down) counts an error and leaves the
others running."""

import json
import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Min
from django.utils import timezone

from commerce.core import metrics
from commerce.core.redis import redis_client
from commerce.eventstore.models import OutboxMessage

logger = logging.getLogger(__name__)

# Orders still moving through the pipeline (not confirmed, failed, cancelled or later).
OPEN_ORDER_STATUSES = ("placed", "reserved", "paid")
# Sagas not finished; FAILED stays until a person repairs it.
UNFINISHED_SAGA_STATUSES = ("running", "compensating", "awaiting_approval", "failed")
# kombu's Redis transport keeps priorities 3/6/9 in sibling lists: "<queue>\x06\x16<n>".
_PRIORITY_SEPARATOR = "\x06\x16"
_PRIORITY_STEPS = ("", "3", "6", "9")
# Headers of our own added at publish (commerce/celery.py), read back for queue age.
SENT_AT_HEADER = "commerce_sent_at"

_last_drift_check = 0.0
_known_saga_types: set[str] = {"order_fulfilment", "order_cancellation"}


def collect(*, verify_inventory: bool | None = None) -> dict[str, bool]:
    """Run every check once; returns {check: ok}. `verify_inventory` forces (or skips) the
    slower drift check, which otherwise runs every INVENTORY_VERIFY_INTERVAL_SECONDS."""
    global _last_drift_check
    now = time.time()
    if verify_inventory is None:
        verify_inventory = now - _last_drift_check >= settings.INVENTORY_VERIFY_INTERVAL_SECONDS
    checks: list[tuple[str, Callable[[], None]]] = [
        ("postgres", _postgres),
        ("redis", _redis),
        ("queues", _queues),
    ]
    if verify_inventory:
        _last_drift_check = now
        checks.append(("inventory_drift", _inventory_drift))
    results = {}
    for name, check in checks:
        try:
            check()
            results[name] = True
        except Exception as exc:  # a failing check must not stop the others
            results[name] = False
            metrics.OPS_COLLECT_ERRORS.labels(check=name).inc()
            logger.warning("ops check failed", extra={"check": name, "error": repr(exc)})
            if name == "postgres":
                connection.close()  # a broken connection is not reused next time
    metrics.DEPENDENCY_UP.labels(dependency="postgres").set(int(results["postgres"]))
    metrics.DEPENDENCY_UP.labels(dependency="redis").set(int(results["redis"]))
    metrics.OPS_COLLECTED.set(time.time())
    return results


def _age(oldest, now) -> float:
    return max((now - oldest).total_seconds(), 0.0) if oldest else 0.0


def _postgres() -> None:
    from orders.models import OrderView
    from sagas.models import SagaInstance

    now = timezone.now()
    with transaction.atomic():
        with connection.cursor() as cursor:
            # A gauge is not worth waiting for: never hold the collector on a slow query.
            cursor.execute("SET LOCAL statement_timeout = 5000")
        orders = {row["status"]: row for row in
                  OrderView.objects.filter(status__in=OPEN_ORDER_STATUSES)
                  .values("status").annotate(n=Count("pk"), oldest=Min("created_at"))}
        sagas = list(SagaInstance.objects.filter(status__in=UNFINISHED_SAGA_STATUSES)
                     .values("saga_type", "status")
                     .annotate(n=Count("pk"), oldest=Min("created_at")))
        outbox = OutboxMessage.objects.filter(published_at__isnull=True).aggregate(
            n=Count("pk"), oldest=Min("created_at"))
        low_stock = _low_stock_count()
        with connection.cursor() as cursor:
            cursor.execute("SELECT coalesce(state, 'unknown'), count(*) FROM pg_stat_activity "
                           "WHERE backend_type = 'client backend' GROUP BY 1")
            db_states = dict(cursor.fetchall())
            cursor.execute("SELECT current_setting('max_connections')::int"
                           " - current_setting('superuser_reserved_connections')::int")
            max_connections = cursor.fetchone()[0]

    for status in OPEN_ORDER_STATUSES:
        metrics.ORDERS_OPEN.labels(status=status).set(orders.get(status, {}).get("n", 0))
    oldest_order = min((row["oldest"] for row in orders.values()), default=None)
    metrics.ORDER_OLDEST_OPEN_AGE.set(_age(oldest_order, now))

    _set_saga_gauges(sagas, now)

    metrics.OUTBOX_PENDING.set(outbox["n"])
    metrics.OUTBOX_OLDEST_PENDING_AGE.set(_age(outbox["oldest"], now))
    metrics.LOW_STOCK_ITEMS.set(low_stock)
    for state in ("active", "idle", "idle in transaction", "idle in transaction (aborted)"):
        metrics.DB_CONNECTIONS.labels(state=state).set(db_states.pop(state, 0))
    metrics.DB_CONNECTIONS.labels(state="other").set(sum(db_states.values()))
    metrics.DB_MAX_CONNECTIONS.set(max_connections)


def _set_saga_gauges(rows: list[dict], now) -> None:
    seen = {(row["saga_type"], row["status"]): row["n"] for row in rows}
    # Every type seen so far keeps a sample per status, so a repaired FAILED saga reads 0
    # instead of its last value.
    _known_saga_types.update(t for t, _ in seen)
    for saga_type in sorted(_known_saga_types):
        for status in UNFINISHED_SAGA_STATUSES:
            metrics.SAGAS.labels(saga_type=saga_type, status=status).set(
                seen.get((saga_type, status), 0))
    for status in UNFINISHED_SAGA_STATUSES:
        oldest = min((row["oldest"] for row in rows if row["status"] == status), default=None)
        metrics.SAGA_OLDEST_AGE.labels(status=status).set(_age(oldest, now))


def _low_stock_count() -> int:
    from inventory.selectors import low_stock_list

    return low_stock_list().count()


def _redis() -> None:
    info = redis_client().info("memory")
    metrics.REDIS_MEMORY_USED.set(info.get("used_memory", 0))
    metrics.REDIS_MEMORY_MAX.set(info.get("maxmemory", 0))


def queue_names() -> list[str]:
    from commerce.celery import app

    names = {app.conf.task_default_queue}
    names.update(q.name for q in (app.conf.task_queues or ()))
    return sorted(names)


def _queues() -> None:
    import redis

    client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=2,
                                  socket_connect_timeout=2)
    try:
        now = time.time()
        for queue in queue_names():
            keys = [queue + (_PRIORITY_SEPARATOR + step if step else "")
                    for step in _PRIORITY_STEPS]
            pipe = client.pipeline(transaction=False)
            for key in keys:
                pipe.llen(key)
                pipe.lindex(key, -1)  # LPUSH + BRPOP: the tail is the oldest message
            replies = pipe.execute()
            depth = sum(replies[0::2])
            sent = [_sent_at(raw) for raw in replies[1::2] if raw is not None]
            sent = [s for s in sent if s is not None]
            metrics.QUEUE_DEPTH.labels(queue=queue).set(depth)
            metrics.QUEUE_OLDEST_AGE.labels(queue=queue).set(
                max(now - min(sent), 0.0) if sent else 0.0)
    finally:
        client.close()


def _sent_at(raw: bytes) -> float | None:
    try:
        return float(json.loads(raw)["headers"][SENT_AT_HEADER])
    except (ValueError, KeyError, TypeError):
        return None


def _inventory_drift() -> None:
    """What `manage.py inventory_verify` checks: counters against the facts (drift), and
    reservations against their orders (mismatches)."""
    from inventory.selectors import reservation_mismatches, stock_drift

    drifts = stock_drift()
    mismatches = reservation_mismatches()
    metrics.INVENTORY_DRIFT.set(len({d.sku for d in drifts}))
    metrics.INVENTORY_MISMATCHES.set(len(mismatches))
    metrics.INVENTORY_VERIFIED.set(time.time())
    if mismatches:
        logger.warning("reservations disagree with their orders; see `manage.py "
                       "inventory_verify`", extra={"count": len(mismatches), "orders": [
                           str(m.order_id) for m in mismatches[:20]]})
    if drifts:
        logger.warning("inventory drift found; run `manage.py inventory_verify --fix`",
                       extra={"drifts": [f"{d.sku}.{d.field}: {d.recorded} != {d.expected}"
                                         for d in drifts[:20]], "count": len(drifts)})
