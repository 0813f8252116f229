"""Order commands for many orders at once, for the fulfilment saga's batch steps: the same
decisions as the one-order commands (orders/services.py builds them: `mark_reserved`,
`mark_payment_authorized`, …), with one query to load every order's events and one append
for all of them, instead of a load, an append and a read-back per order."""

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
    loaded = store.load_many(list(decisions))
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
        store.append_many(appends)
        transaction.on_commit(partial(_count_transitions, targets), robust=True)
    return outcomes
