"""The fulfilment saga's batch steps: many orders per statement, the same outcomes as one
order at a time, and a fall back to one at a time when a batch cannot finish."""

import dataclasses

import pytest
from django.db import connection

from commerce.eventstore.models import Event
from inventory.selectors import reservation_get_for_order
from orders import services as order_services
from orders.selectors import order_get
from payments.models import Payment
from sagas import definitions, runner
from sagas.flows import fulfilment, fulfilment_batch
from sagas.models import SagaInstance, SagaStatus, SagaStep
from tests.factories import make_item
from tests.sagas.helpers import assert_consistent, fulfilment_saga, place, stock

pytestmark = pytest.mark.django_db


# Every statement of one fulfilment run, whatever the number of orders: the claim, then per
# step its log rows, saga rows, events with their outbox rows (one statement) and domain
# rows, each written set-wise.
BATCH_STATEMENTS = 110


def place_many(customer, item, capture, *, n, method="pm_card_visa", quantity=1):
    with capture(execute=False):
        return [place(customer, item, quantity=quantity, method=method) for _ in range(n)]


def run_counting(capture) -> int:
    """Run every due saga; returns the SQL statements it took."""
    statements = [0]

    def count(execute, sql, params, many, context):
        statements[0] += 1
        return execute(sql, params, many, context)

    with capture(execute=True), connection.execute_wrapper(count):
        runner.run_due()
    return statements[0]


@pytest.mark.parametrize("n", [5, 40])
def test_a_batch_costs_the_same_statements_whatever_its_size(
        customer, django_capture_on_commit_callbacks, n):
    # given n placed orders
    item = make_item(price="5.00", quantity=100)
    orders = place_many(customer, item, django_capture_on_commit_callbacks, n=n)
    # when one run takes them through fulfilment
    statements = run_counting(django_capture_on_commit_callbacks)
    # then every one is confirmed and captured, with the same events as one at a time
    for order in orders:
        assert order_get(order_id=order.order_id).status == "confirmed"
        assert_consistent(order.order_id)
    assert stock(item) == (100, n, 100 - n)
    assert Payment.objects.filter(status="captured").count() == n
    # in one set of statements for the whole batch (one order at a time took over a hundred
    # statements per order): the same count for 5 orders as for 40
    assert statements == BATCH_STATEMENTS, statements
    assert set(SagaStep.objects.values_list("attempts", flat=True)) == {1}


def test_short_stock_and_declines_fail_their_own_orders_only(
        customer, django_capture_on_commit_callbacks):
    # given 3 units for 4 orders of one unit, and a declined card among them
    item = make_item(price="5.00", quantity=3)
    good = place_many(customer, item, django_capture_on_commit_callbacks, n=2)
    declined = place_many(customer, item, django_capture_on_commit_callbacks, n=1,
                          method="pm_card_chargeDeclined")
    short = place_many(customer, item, django_capture_on_commit_callbacks, n=1)
    # when they run together
    run_counting(django_capture_on_commit_callbacks)
    # then the first three got stock, the declined one gave it back, the last got none
    statuses = {o.order_id: order_get(order_id=o.order_id) for o in good + declined + short}
    assert [statuses[o.order_id].status for o in good] == ["confirmed", "confirmed"]
    assert (statuses[declined[0].order_id].status,
            statuses[declined[0].order_id].failure_code) == ("failed", "payment_declined")
    assert Payment.objects.get(order_id=declined[0].order_id).status == "declined"
    assert (statuses[short[0].order_id].status,
            statuses[short[0].order_id].failure_code) == ("failed", "insufficient_stock")
    assert reservation_get_for_order(order_id=short[0].order_id) is None
    assert stock(item) == (3, 2, 1)
    for order in good + declined + short:
        assert_consistent(order.order_id)


def test_a_pending_cancellation_ends_its_own_fulfilment_in_a_batch(
        customer, django_capture_on_commit_callbacks):
    item = make_item(price="5.00", quantity=10)
    kept, cancelled = place_many(customer, item, django_capture_on_commit_callbacks, n=2)
    with django_capture_on_commit_callbacks(execute=False):
        order_services.order_request_cancellation(order_id=cancelled.order_id, reason="oops")
    run_counting(django_capture_on_commit_callbacks)
    assert order_get(order_id=kept.order_id).status == "confirmed"
    assert order_get(order_id=cancelled.order_id).status == "cancelled"
    assert fulfilment_saga(cancelled.order_id).saga_data["ended_at_step"] == "reserve_inventory"
    assert stock(item) == (10, 1, 9)


def with_batch(monkeypatch, step_name: str, batch) -> None:
    """Swap one step's batch function in the registered fulfilment saga."""
    definition = definitions.get_definition(fulfilment.SAGA_TYPE)
    steps = tuple(dataclasses.replace(s, batch=batch) if s.name == step_name else s
                  for s in definition.steps)
    monkeypatch.setitem(definitions._registry, fulfilment.SAGA_TYPE,
                        dataclasses.replace(definition, steps=steps))


def test_a_batch_that_cannot_finish_runs_its_step_one_order_at_a_time(
        customer, django_capture_on_commit_callbacks, monkeypatch, caplog):
    # given the batch confirmation of orders fails (as an unexpected refusal would)
    def broken(ctxs):
        raise fulfilment_batch.BatchFallback("simulated")
    with_batch(monkeypatch, "confirm_order", broken)
    item = make_item(price="5.00", quantity=10)
    orders = place_many(customer, item, django_capture_on_commit_callbacks, n=3)
    # when they run
    run_counting(django_capture_on_commit_callbacks)
    # then the step fell back to one order at a time, and all three are confirmed
    assert "run it one by one" in caplog.text
    for order in orders:
        assert order_get(order_id=order.order_id).status == "confirmed"
        assert fulfilment_saga(order.order_id).status == SagaStatus.COMPLETED
        assert_consistent(order.order_id)


def test_a_batch_member_whose_lease_was_lost_stops_and_the_others_go_on(
        customer, django_capture_on_commit_callbacks, monkeypatch):
    # given two orders, one of whose leases is taken over while its batch runs
    item = make_item(price="5.00", quantity=10)
    kept, lost = place_many(customer, item, django_capture_on_commit_callbacks, n=2)
    claim = runner.claim_due

    def claim_then_lose_one(**kwargs):
        claimed = claim(**kwargs)
        SagaInstance.objects.filter(correlation_id=lost.order_id).update(
            lease_id="00000000-0000-0000-0000-000000000001")  # another worker took it over
        return claimed
    monkeypatch.setattr(runner, "claim_due", claim_then_lose_one)
    run_counting(django_capture_on_commit_callbacks)
    # then the batch rolled back, the kept order went on alone, the other stopped untouched
    assert order_get(order_id=kept.order_id).status == "confirmed"
    assert order_get(order_id=lost.order_id).status == "placed"
    assert reservation_get_for_order(order_id=lost.order_id) is None
    assert stock(item) == (10, 1, 9)
    assert not Payment.objects.filter(order_id=lost.order_id).exists()
    assert list(Event.objects.filter(aggregate_id=lost.order_id).order_by("version")
                .values_list("event_type", flat=True)) == ["OrderPlaced"]
