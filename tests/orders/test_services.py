import uuid
from decimal import Decimal

import pytest

from commerce.core import context
from commerce.core.errors import ConcurrencyError, ValidationFailed
from commerce.eventstore.models import Event
from inventory.models import InventoryItem
from orders import events as ev
from orders import lifecycle, services
from orders.errors import InvalidTransition
from orders.models import OrderView
from tests.orders.conftest import ADDRESS, advance, snapshot, step


def event_types(order_id):
    return list(Event.objects.filter(aggregate_id=order_id).order_by("version")
                .values_list("event_type", flat=True))


# Every allowed transition: (from status, command, new status, events it records).
ALLOWED = [
    ("placed", "reserve", "reserved", ["InventoryReserved"]),
    ("placed", "update", "placed", ["OrderNotesChanged"]),
    ("placed", "request_cancellation", "placed", ["CancellationRequested"]),
    ("placed", "cancel", "cancelled", ["OrderCancelled"]),
    ("placed", "fail", "failed", ["PaymentFailed", "OrderFailed"]),
    ("reserved", "authorize", "paid", ["PaymentAuthorized"]),
    ("reserved", "fail", "failed", ["PaymentFailed", "OrderFailed"]),
    ("reserved", "cancel", "cancelled", ["OrderCancelled"]),
    ("reserved", "update", "reserved", ["OrderNotesChanged"]),
    ("paid", "capture", "paid", ["PaymentCaptured"]),
    ("paid", "confirm", "confirmed", ["OrderConfirmed"]),
    ("paid", "fail", "failed", ["PaymentFailed", "OrderFailed"]),
    ("paid", "cancel", "cancelled", ["OrderCancelled"]),
    ("confirmed", "ship", "shipped", ["ShipmentCreated", "OrderShipped"]),
    ("confirmed", "ship_first_line", "partially_shipped",
     ["ShipmentCreated", "OrderPartiallyShipped"]),
    ("partially_shipped", "ship", "shipped", ["ShipmentCreated", "OrderShipped"]),
    ("partially_shipped", "cancel_shipments", "confirmed", ["ShipmentCancelled",
                                                          "OrderUnshipped"]),
    ("partially_shipped", "request_cancellation", "partially_shipped",
     ["CancellationRequested"]),
    ("partially_shipped", "cancel", "cancelled", ["OrderCancelled"]),
    ("confirmed", "update", "confirmed", ["OrderNotesChanged"]),
    ("confirmed", "request_cancellation", "confirmed", ["CancellationRequested"]),
    ("confirmed", "cancel", "cancelled", ["OrderCancelled"]),
    ("confirmed", "refund_all", "confirmed", ["RefundIssued"]),
    ("shipped", "deliver", "delivered", ["OrderDelivered"]),
    ("shipped", "request_cancellation", "shipped", ["CancellationRequested"]),
    ("shipped", "cancel", "cancelled", ["OrderCancelled"]),
    ("delivered", "complete", "completed", ["OrderCompleted"]),
    ("delivered", "refund_all", "refunded", ["RefundIssued", "OrderRefunded"]),
    ("delivered", "request_cancellation", "delivered", ["CancellationRequested"]),
    ("completed", "refund_all", "refunded", ["RefundIssued", "OrderRefunded"]),
    ("delivered", "return_first_line", "partially_returned",
     ["ReturnRequested", "ReturnApproved", "ReturnReceived", "OrderPartiallyReturned",
      "RefundRequested"]),
    ("delivered", "reject_return", "delivered", ["ReturnRequested", "ReturnRejected"]),
    ("completed", "return_all", "returned",
     ["ReturnRequested", "ReturnApproved", "ReturnReceived", "OrderReturned",
      "RefundRequested"]),
    ("partially_returned", "return_rest", "returned",
     ["ReturnRequested", "ReturnApproved", "ReturnReceived", "OrderReturned",
      "RefundRequested"]),
    ("partially_returned", "complete", "completed", ["OrderCompleted"]),
    ("returned", "archive", "returned", ["OrderArchived"]),
    ("completed", "archive", "completed", ["OrderArchived"]),
    ("cancelled", "archive", "cancelled", ["OrderArchived"]),
    ("cancelled", "refund_all", "cancelled", ["RefundIssued"]),
    ("failed", "archive", "failed", ["OrderArchived"]),
    ("failed", "refund_all", "failed", ["RefundIssued"]),
    ("refunded", "archive", "refunded", ["OrderArchived"]),
]


@pytest.mark.parametrize("start, command, expected, new_events", ALLOWED,
                         ids=[f"{a[0]}-{a[1]}" for a in ALLOWED])
def test_allowed_transition(place, start, command, expected, new_events):
    # given an order in `start`
    order = advance(place(), start)
    before = event_types(order.order_id)
    # when the command runs
    view = step(order, command)
    # then it records exactly its events and the view follows the stream
    assert event_types(order.order_id) == before + new_events
    assert view.status == expected
    assert view.version == len(before) + len(new_events)
    assert services.repository.get(order.order_id).status == expected


def test_every_lifecycle_transition_is_covered():
    # The table above exercises every transition of the declaration except the two
    # "record a failure" ones (covered by test_fail_records_cause_then_failure),
    # reject_cancellation (test_reject_cancellation_leaves_order_unchanged) and the
    # requested-refund ones (tests/orders/test_refunds.py).
    covered = {ev.TRANSITIONS[e] for row in ALLOWED for e in row[3] if e in ev.TRANSITIONS}
    covered |= {"record_reservation_failure", "reject_cancellation", "request_refund",
                "record_refund_failure"}
    assert covered == set(lifecycle.all_actions())


# A sample of illegal ones: nothing is written, the view is unchanged.
ILLEGAL = [
    ("placed", "ship"), ("placed", "confirm"), ("placed", "deliver"), ("placed", "archive"),
    ("placed", "authorize"), ("placed", "capture"), ("placed", "reject_cancellation"),
    ("reserved", "confirm"), ("paid", "ship"), ("shipped", "reject_cancellation"),
    ("confirmed", "fail"), ("confirmed", "complete"),
    ("shipped", "update"), ("shipped", "fail"), ("shipped", "archive"),
    ("delivered", "update"), ("completed", "cancel"), ("completed", "request_cancellation"),
    ("cancelled", "request_cancellation"), ("cancelled", "confirm"), ("cancelled", "update"),
    ("failed", "cancel"), ("failed", "request_cancellation"), ("refunded", "request_cancellation"),
]


@pytest.mark.parametrize("start, command", ILLEGAL, ids=[f"{a}-{b}" for a, b in ILLEGAL])
def test_illegal_transition_is_refused_and_writes_nothing(place, start, command):
    # given an order in `start`
    order = advance(place(), start)
    before = snapshot()
    allowed = services.repository.get(order.order_id).allowed_actions()
    # when an illegal command runs
    with pytest.raises(InvalidTransition) as exc:
        step(order, command)
    # then 409 invalid_transition names the state and the allowed actions; nothing written
    assert exc.value.http_status == 409
    assert exc.value.code == "invalid_transition"
    assert exc.value.details["status"] == start
    assert exc.value.details["allowed_actions"] == allowed
    assert snapshot() == before


def test_ship_is_refused_while_cancellation_pending(place):
    order = advance(place(), "confirmed")
    step(order, "request_cancellation")
    before = snapshot()
    with pytest.raises(InvalidTransition) as exc:
        step(order, "ship")
    assert exc.value.details["cancellation_pending"] is True
    assert "ship" not in exc.value.details["allowed_actions"]
    assert snapshot() == before


def test_ship_fulfils_the_reservation_in_the_same_transaction(place, items):
    # given a confirmed order holding 2 + 3 units
    order = advance(place(), "confirmed")
    assert InventoryItem.objects.get(sku=items[0].sku).reserved == 2
    # when it ships
    view = step(order, "ship")
    # then the units left the warehouse and the shipment is on the order
    item = InventoryItem.objects.get(sku=items[0].sku)
    assert (item.total, item.reserved) == (98, 0)
    assert (view.carrier, view.tracking_number) == ("DHL", "T1")
    assert view.shipment_id is not None


@pytest.mark.parametrize("path", [
    ["reserve", "reserve"], ["reserve", "authorize", "authorize"],
    ["reserve", "authorize", "capture", "capture"],
    ["reserve", "authorize", "capture", "confirm", "confirm"],
    ["reserve", "authorize", "capture", "confirm", "ship", "ship"],
    ["fail", "fail"], ["request_cancellation", "cancel", "cancel"],
    ["request_cancellation", "reject_cancellation", "reject_cancellation"],
    ["request_cancellation", "refund_all", "refund_all"],
    ["fail", "archive", "archive"],
])
def test_repeating_a_saga_command_is_a_noop(place, path):
    # given the command already ran once
    order = place()
    for name in path[:-1]:
        order = step(order, name)
    before = snapshot()
    # when it is repeated (a redelivered message)
    view = step(order, path[-1])
    # then nothing new is recorded
    assert snapshot() == before
    assert view.version == order.version


@pytest.mark.parametrize("code, first", [
    ("insufficient_stock", "InventoryReservationFailed"), ("payment_declined", "PaymentFailed")])
def test_fail_records_cause_then_failure(place, code, first):
    order = place()
    view = services.order_fail(order_id=order.order_id, reason="nope", code=code)
    assert event_types(order.order_id) == ["OrderPlaced", first, "OrderFailed"]
    assert (view.status, view.failure_code, view.failure_reason) == ("failed", code, "nope")


def test_fail_with_other_code_records_only_order_failed(place):
    order = place()
    services.order_fail(order_id=order.order_id, reason="saga timed out", code="timeout")
    assert event_types(order.order_id) == ["OrderPlaced", "OrderFailed"]


def test_reservation_failure_after_reservation_is_refused(place):
    order = advance(place(), "reserved")
    before = snapshot()
    with pytest.raises(InvalidTransition):
        services.order_fail(order_id=order.order_id, reason="x", code="insufficient_stock")
    assert snapshot() == before


def test_reject_cancellation_leaves_order_unchanged(place):
    # given a confirmed order with a pending cancellation
    order = advance(place(), "confirmed")
    pending = step(order, "request_cancellation")
    assert pending.cancellation_pending is True
    # when the saga rejects it
    view = step(order, "reject_cancellation")
    # then only CancellationRejected is added; the order is as before the request
    assert event_types(order.order_id)[-2:] == ["CancellationRequested", "CancellationRejected"]
    assert (view.status, view.cancellation_pending) == ("confirmed", False)
    assert "ship" in lifecycle.allowed_actions(view.lifecycle())
    # and a new request is possible again
    assert step(view, "request_cancellation").cancellation_pending is True


def test_partial_refund_of_completed_order_keeps_status(place):
    order = advance(place(), "completed")
    view = services.order_record_refund(order_id=order.order_id, payment_id="pay_1",
                                        amount="5.00")
    assert (view.status, view.refunded_amount) == ("completed", Decimal("5.00"))
    view = services.order_record_refund(order_id=order.order_id, payment_id="pay_1",
                                        amount="22.50")
    assert (view.status, view.refunded_amount) == ("refunded", Decimal("27.50"))


def test_refund_during_pending_cancellation_does_not_change_status(place):
    order = advance(place(), "delivered")
    step(order, "request_cancellation")
    view = step(order, "refund_all")
    assert (view.status, view.cancellation_pending) == ("delivered", True)
    assert step(order, "cancel").status == "cancelled"


def test_place_records_order_placed_with_contract_shape(place, customer, items):
    view = place(payment_method="pm_card_visa")
    event = Event.objects.get(aggregate_id=view.order_id)
    assert event.aggregate_type == "Order" and event.event_type == "OrderPlaced"
    assert event.event_data == {
        "customer_id": str(customer.id),
        "lines": [
            {"sku": items[0].sku, "name": items[0].name, "unit_price": "10.00", "quantity": 2,
             "line_total": "20.00"},
            {"sku": items[1].sku, "name": items[1].name, "unit_price": "2.50", "quantity": 3,
             "line_total": "7.50"}],
        "currency": "USD", "subtotal": "27.50", "shipping": "0.00", "discount": "0.00",
        "tax": "0.00", "total": "27.50", "shipping_address": ADDRESS,
        "payment_method": "pm_card_visa", "channel": "api",
    }


def test_place_merges_duplicate_skus(place, items):
    view = place(lines=[{"sku": items[0].sku, "quantity": 1},
                        {"sku": items[0].sku, "quantity": 4}])
    assert [(ln.sku, ln.quantity) for ln in view.lines.all()] == [(items[0].sku, 5)]
    assert view.total_amount == Decimal("50.00")


def test_place_with_existing_order_id_is_concurrency_error(place):
    order = place()
    before = snapshot()
    with pytest.raises(ConcurrencyError):
        place(order_id=order.order_id)
    assert snapshot() == before


def test_place_validates_in_the_service_too(place, items):
    before = snapshot()
    with pytest.raises(ValidationFailed) as exc:
        place(lines=[{"sku": items[0].sku, "quantity": True}],
              shipping_address={"name": "x"})
    assert set(exc.value.details) == {"lines", "shipping_address"}
    assert snapshot() == before


def test_acting_user_is_recorded_in_metadata(place, staff):
    order = place()
    with context.bind(actor=context.actor_label(staff)):
        services.order_request_cancellation(order_id=order.order_id, reason="fraud")
    event = Event.objects.get(aggregate_id=order.order_id, event_type="CancellationRequested")
    assert event.actor == f"user:{staff.id}"


def test_unknown_order_is_not_found(db):
    from commerce.core.errors import NotFound

    with pytest.raises(NotFound):
        services.order_confirm(order_id=uuid.uuid4())


def test_demo_seed_is_idempotent(db):
    import io

    from django.core.management import call_command

    # given the demo seed ran once
    call_command("seed_demo", stdout=io.StringIO())
    count = OrderView.objects.count()
    events = Event.objects.count()
    # when it runs again
    call_command("seed_demo", stdout=io.StringIO())
    # then nothing new was made
    assert count == 3
    assert (OrderView.objects.count(), Event.objects.count()) == (count, events)


def test_metrics_count_placements_and_transitions_after_commit(
        place, django_capture_on_commit_callbacks, no_policies):
    from commerce.core import metrics

    placed = metrics.ORDERS_PLACED.labels(channel="api")._value.get()
    reserved = metrics.ORDER_TRANSITIONS.labels(to_status="reserved")._value.get()
    with django_capture_on_commit_callbacks(execute=True):
        order = place()
        advance(order, "reserved")
    assert metrics.ORDERS_PLACED.labels(channel="api")._value.get() == placed + 1
    assert metrics.ORDER_TRANSITIONS.labels(to_status="reserved")._value.get() == reserved + 1


def test_refunds_cannot_exceed_the_total(place):
    order = advance(place(), "completed")
    services.order_record_refund(order_id=order.order_id, payment_id="pay_1", amount="20.00")
    before = snapshot()
    with pytest.raises(ValidationFailed) as exc:
        services.order_record_refund(order_id=order.order_id, payment_id="pay_1", amount="8.00")
    assert exc.value.details == {"amount": ["At most 7.50 more."]}
    assert snapshot() == before


def test_place_rejects_malformed_ids(place):
    before = snapshot()
    with pytest.raises(ValidationFailed) as exc:
        place(order_id="not-a-uuid")
    assert exc.value.details == {"order_id": ["Must be a UUID."]}
    with pytest.raises(ValidationFailed):
        services.order_place(customer_id="nobody", lines=[{"sku": "X", "quantity": 1}],
                             shipping_address=ADDRESS)
    assert snapshot() == before


def test_commands_reject_malformed_order_ids(db):
    with pytest.raises(ValidationFailed):
        services.order_cancel(order_id="12", reason="x")


def test_placed_view_equals_the_stored_rows(place, django_assert_num_queries):
    # given an order just placed (the returned view is built, not read back)
    view = place()
    stored = OrderView.objects.prefetch_related("lines").get(pk=view.order_id)
    # then it equals what the projection stored, lines included
    fields = [f.attname for f in OrderView._meta.concrete_fields]
    assert [getattr(view, f) for f in fields] == [getattr(stored, f) for f in fields]
    with django_assert_num_queries(0):
        lines = [(ln.id, ln.line_no, ln.sku, ln.unit_price, ln.quantity, ln.line_total)
                 for ln in view.lines.all()]
    assert lines == [(ln.id, ln.line_no, ln.sku, ln.unit_price, ln.quantity, ln.line_total)
                     for ln in stored.lines.all()]
