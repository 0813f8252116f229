"""Shared by the saga and integration tests: orders placed through the real services, and
the money/stock consistency check every finished saga must pass."""

import io
from decimal import Decimal

from django.core.management import call_command
from django.utils import timezone

from commerce.core import external
from inventory.models import InventoryItem
from orders import selectors as order_selectors
from orders import services as order_services
from payments.selectors import payment_totals_for_order
from sagas import engine, runner
from sagas.flows import cancellation, fulfilment
from sagas.models import FINAL_STATUSES, SagaInstance

ADDRESS = {"name": "Ada Lovelace", "line1": "12 St James's Square", "city": "London",
           "postal_code": "SW1Y 4JH", "country": "GB"}


def place(customer, item, *, quantity=2, method="pm_card_visa"):
    return order_services.order_place(
        customer_id=customer.id, lines=[{"sku": item.sku, "quantity": quantity}],
        shipping_address=ADDRESS, payment_method=method)


def stock(item) -> tuple[int, int, int]:
    row = InventoryItem.objects.get(sku=item.sku)
    return row.total, row.reserved, row.available


def fulfilment_saga(order_id) -> SagaInstance:
    return SagaInstance.objects.get(correlation_id=order_id, saga_type=fulfilment.SAGA_TYPE)


def cancellation_saga(order_id) -> SagaInstance:
    return SagaInstance.objects.filter(
        correlation_id=order_id, saga_type=cancellation.SAGA_TYPE).latest("created_at")


def assert_consistent(order_id) -> None:
    """Money: captured − refunded over the order's payments equals what the order says,
    and is the total (less requested refunds) for a confirmed order, zero for a failed or
    cancelled one. Stock:
    inventory_verify clean (reserved equals the sum of active reservations)."""
    order = order_selectors.order_get(order_id=order_id)
    totals = payment_totals_for_order(order_id=order_id)
    net = totals["captured"] - totals["refunded"]
    assert net == order.captured_amount - order.refunded_amount
    if order.status in ("failed", "cancelled"):
        assert net == Decimal("0.00")
    if order.status == "confirmed":  # less what was refunded on request since
        assert net == order.total_amount - order.refunded_amount
    out = io.StringIO()
    call_command("inventory_verify", stdout=out)  # raises CommandError on any drift
    assert "0 drifts" in out.getvalue()
    for saga in SagaInstance.objects.filter(correlation_id=order_id):
        assert saga.status in FINAL_STATUSES, saga


def run_until(saga, step_name: str) -> SagaInstance:
    """Run the saga in this thread, as a worker would, up to (not including) `step_name`,
    then leave it due with no lease, as if the wake-up for that step had been lost."""
    [claimed] = runner.claim_due(limit=1, saga_ids=[saga.pk])
    run = engine.SagaRun(claimed)
    target = run.definition.index_of(step_name)
    while run.saga.current_step < target and run.saga.status in engine.RUNNABLE:
        call = run._step_transaction()
        while call is not None:
            run.outcome = external.invoke(call)
            call = run._step_transaction()
    SagaInstance.objects.filter(pk=saga.pk).update(lease_id=None, deadline=timezone.now())
    saga.refresh_from_db()
    return saga
