"""Order commands for many orders at once, for the fulfilment saga's batch steps: the same
decisions as the one-order commands (orders/services.py builds them: `mark_reserved`,
`mark_payment_authorized`, …), with one query to load every order's events (or only to check
the streams this worker kept from the step before) and one append for all of them, instead
of a load, an append and a read-back per order."""

import threading
import uuid
from collections.abc import Callable
from functools import partial

from django.db import transaction

from commerce.core.errors import DomainError, NotFound
from commerce.eventstore import store
from commerce.eventstore.store import StreamAppend
from orders import events as ev
from orders import lifecycle
from orders.aggregate import Order
from orders.services import _count_transitions

Decision = Callable[[Order], None]


def orders_decide_many(*, decisions: dict[uuid.UUID, Decision]) -> dict[uuid.UUID,
                                                                           DomainError | None]:
    """Apply each order's decision in the caller's transaction. Per order: None (recorded,
    or nothing left to record: a repeat) or the DomainError that refused it (nothing of it
    recorded). Another writer appending to one of them meanwhile raises ConcurrencyError
    for the whole batch, with nothing stored (its caller runs them one by one instead)."""
    loaded = _streams(list(decisions))
    outcomes: dict[uuid.UUID, DomainError | None] = {}
    appends, targets = [], []
    for order_id, decide in decisions.items():
        events = loaded.get(order_id)
        if not events or events[0].aggregate_type != ev.ORDER:
            outcomes[order_id] = NotFound(f"Order {order_id} not found.")
            continue
        order = Order.from_events(order_id, events)
        try:
            decide(order)
        except DomainError as exc:
            outcomes[order_id] = exc
            continue
        outcomes[order_id] = None
        pending = order.pending_events
        if pending:
            appends.append(StreamAppend(order.id, ev.ORDER, order.version, pending))
            targets += [lifecycle.target_status(ev.TRANSITIONS[e.event_type]) for e in pending
                        if e.event_type in ev.TRANSITIONS]
    with transaction.atomic():
        recorded = store.append_many(appends)
        streams = {order_id: loaded[order_id] for order_id, outcome in outcomes.items()
                   if outcome is None}
        for append, new in zip(appends, recorded, strict=True):
            streams[append.aggregate_id] = [*streams[append.aggregate_id], *new]
        transaction.on_commit(partial(_count_transitions, targets), robust=True)
        transaction.on_commit(partial(_remember, streams), robust=True)
    return outcomes


# Each order's events as this process last committed them (bounded): the saga's next batch
# step on the same orders (this worker, a moment later) starts from them instead of reading
# and decoding them again. Each is checked first against the stream's newest stored event
# (one index read for the batch): one that another writer appended to meanwhile, or that
# the store no longer holds, is read afresh. (Were one to slip through stale, its append
# would expect a version already taken and fail.) Taken out while in use, put back only
# after a commit: a rolled-back batch leaves nothing behind.
_KEPT_LIMIT = 2_000  # several claimed batches' worth (SAGA_BATCH_SIZE), a few MB
_kept: dict[uuid.UUID, list] = {}
_kept_lock = threading.Lock()
# After these the saga has no batch step left for the order: not kept.
_LAST_OF_FULFILMENT = frozenset({ev.ORDER_CONFIRMED, ev.ORDER_FAILED, ev.ORDER_CANCELLED})


def _streams(order_ids: list[uuid.UUID]) -> dict[uuid.UUID, list]:
    with _kept_lock:
        streams = {i: _kept.pop(i) for i in order_ids if i in _kept}
    if streams:
        newest = store.last_event_ids(list(streams))
        streams = {i: events for i, events in streams.items() if newest.get(i) == events[-1].id}
    missing = [i for i in order_ids if i not in streams]
    if missing:
        streams.update(store.load_many(missing))
    return streams


def _remember(streams: dict[uuid.UUID, list]) -> None:
    streams = {order_id: events for order_id, events in streams.items()
               if events[-1].event_type not in _LAST_OF_FULFILMENT}
    with _kept_lock:
        if len(_kept) + len(streams) > _KEPT_LIMIT:
            _kept.clear()  # bounded: start afresh rather than track ages
        _kept.update(streams)


def forget_kept_streams() -> None:
    """Tests that rewrite events behind the store's back start from the store again."""
    with _kept_lock:
        _kept.clear()
