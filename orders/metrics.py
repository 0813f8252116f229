"""Business metrics counted from order facts: money captured and refunded, failures by code
(declines and stock-outs are refusals, anything else an incident), placement → confirmation
time. Live-only policies (never replayed), counted after commit so a rolled-back command
counts nothing."""

from decimal import Decimal

from django.db import transaction

from commerce.core import metrics
from commerce.eventstore.policies import policy
from orders import events as ev
from orders.models import OrderView


@policy(ev.PAYMENT_CAPTURED)
def count_captured(event) -> None:
    amount = float(Decimal(event.data["amount"]))
    transaction.on_commit(lambda: metrics.PAYMENTS_CAPTURED_AMOUNT.inc(amount), robust=True)


@policy(ev.REFUND_ISSUED)
def count_refunded(event) -> None:
    amount = float(Decimal(event.data["amount"]))
    transaction.on_commit(lambda: metrics.REFUNDS_AMOUNT.inc(amount), robust=True)


@policy(ev.ORDER_FAILED)
def count_failed(event) -> None:
    code = event.data.get("code") or "unknown"
    transaction.on_commit(lambda: metrics.ORDERS_FAILED.labels(code=code).inc(), robust=True)


@policy(ev.ORDER_CONFIRMED, many=True)
def observe_confirmation_time(events) -> None:
    # The read model was updated inline before policies run; its created_at is the
    # OrderPlaced time (one read for all the orders an append confirmed).
    placed = dict(OrderView.objects.filter(pk__in=[e.aggregate_id for e in events])
                  .values_list("order_id", "created_at"))
    seconds = [max((e.created_at - placed[e.aggregate_id]).total_seconds(), 0.0)
               for e in events if e.aggregate_id in placed]

    def observe():
        for value in seconds:
            metrics.ORDER_CONFIRM_SECONDS.observe(value)

    transaction.on_commit(observe, robust=True)
