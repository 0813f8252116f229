"""Reactions to order events (live appends only): when an order is cancelled, wake the
label task after commit so parcels still with us get their labels voided at once (beat
would find them within a minute anyway: the database is the record, the wake-up only
hurries it)."""

from commerce.core import wakeups
from commerce.eventstore.policies import policy


@policy("OrderCancelled")
def void_labels_of_cancelled_order(event) -> None:
    from shipping import tasks

    wakeups.request_after_commit(tasks.purchase_pending_labels, flag=tasks.LABELS_FLAG)
