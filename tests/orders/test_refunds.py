"""Refund commands on the order: request (held against the capture), settle, fail."""

import uuid

import pytest

from commerce.core.errors import Conflict, ValidationFailed
from commerce.eventstore.models import Event
from orders import services
from orders.errors import InvalidTransition
from orders.refunds import RefundExceedsRefundable
from tests.orders.conftest import advance, snapshot

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_policies")]


def events(order_id) -> list[tuple[str, dict]]:
    return [(e.event_type, e.event_data) for e in
            Event.objects.filter(aggregate_id=order_id).order_by("version")]


@pytest.fixture
def confirmed(place):
    """A confirmed order of 27.50 (2 × 10.00 + 3 × 2.50), captured as pay_1."""
    return advance(place(), "confirmed")


def test_a_requested_refund_is_recorded_and_held_against_the_capture(confirmed):
    # when staff ask 5.00 back
    refund_id = uuid.uuid4()
    services.order_request_refund(order_id=confirmed.order_id, amount="5.00",
                                  reason="scratched box", refund_id=refund_id)
    # then RefundRequested is on the stream and the order holds it against the capture
    assert events(confirmed.order_id)[-1] == ("RefundRequested", {
        "refund_id": str(refund_id), "amount": "5.00", "reason": "scratched box"})
    order = services.repository.get(confirmed.order_id)
    assert str(order.refundable) == "22.50"
    assert order.status == "confirmed"


def test_the_same_request_again_is_a_no_op_and_another_amount_is_refused(confirmed):
    refund_id = uuid.uuid4()
    services.order_request_refund(order_id=confirmed.order_id, amount="5.00",
                                  reason="r", refund_id=refund_id)
    before = snapshot(confirmed.order_id)
    services.order_request_refund(order_id=confirmed.order_id, amount="5.00",
                                  reason="r", refund_id=refund_id)
    assert snapshot(confirmed.order_id) == before
    with pytest.raises(Conflict):
        services.order_request_refund(order_id=confirmed.order_id, amount="6.00",
                                      reason="r", refund_id=refund_id)
    assert snapshot(confirmed.order_id) == before


def test_requests_beyond_what_is_left_are_refused_counting_pending_ones(confirmed):
    # given 20.00 already requested (not yet settled) of 27.50 captured
    services.order_request_refund(order_id=confirmed.order_id, amount="20.00",
                                  reason="r", refund_id=uuid.uuid4())
    before = snapshot(confirmed.order_id)
    # when 7.51 more is asked
    with pytest.raises(RefundExceedsRefundable) as raised:
        services.order_request_refund(order_id=confirmed.order_id, amount="7.51",
                                      reason="r", refund_id=uuid.uuid4())
    # then it is refused naming what is left, and nothing is written
    assert raised.value.details["refundable"] == "7.50"
    assert snapshot(confirmed.order_id) == before
    # and exactly what is left is accepted
    services.order_request_refund(order_id=confirmed.order_id, amount="7.50",
                                  reason="r", refund_id=uuid.uuid4())


@pytest.mark.parametrize("amount", ["0", "-1.00", "abc", "NaN", None])
def test_a_refund_amount_must_be_positive(confirmed, amount):
    before = snapshot(confirmed.order_id)
    with pytest.raises(ValidationFailed):
        services.order_request_refund(order_id=confirmed.order_id, amount=amount,
                                      reason="r", refund_id=uuid.uuid4())
    assert snapshot(confirmed.order_id) == before


@pytest.mark.parametrize("status", ["placed", "paid", "cancelled", "failed"])
def test_no_refund_where_nothing_is_captured_or_the_order_ended(place, status):
    order = advance(place(), status)
    before = snapshot(order.order_id)
    with pytest.raises(InvalidTransition):
        services.order_request_refund(order_id=order.order_id, amount="1.00", reason="r",
                                      refund_id=uuid.uuid4())
    assert snapshot(order.order_id) == before


def test_no_refund_request_while_a_cancellation_is_pending(confirmed):
    services.order_request_cancellation(order_id=confirmed.order_id, reason="x")
    with pytest.raises(InvalidTransition):
        services.order_request_refund(order_id=confirmed.order_id, amount="1.00",
                                      reason="r", refund_id=uuid.uuid4())


def test_settling_a_requested_refund_records_it_once(confirmed):
    # given a pending request
    refund_id = uuid.uuid4()
    services.order_request_refund(order_id=confirmed.order_id, amount="5.00", reason="r",
                                  refund_id=refund_id)
    # when the saga records it (twice: a redelivered step)
    for _ in range(2):
        view = services.order_record_refund(order_id=confirmed.order_id, payment_id="pay_1",
                                            amount="5.00", refund_id=refund_id, reason="r")
    # then one RefundIssued carries the refund id; the order stays confirmed
    issued = [d for t, d in events(confirmed.order_id) if t == "RefundIssued"]
    assert issued == [{"payment_id": "pay_1", "amount": "5.00", "refund_id": str(refund_id),
                       "reason": "r"}]
    assert (view.status, str(view.refunded_amount)) == ("confirmed", "5.00")
    assert str(services.repository.get(confirmed.order_id).refundable) == "22.50"


def test_two_partial_refunds_of_the_same_amount_are_both_recorded(confirmed):
    for _ in range(2):
        refund_id = uuid.uuid4()
        services.order_request_refund(order_id=confirmed.order_id, amount="5.00",
                                      reason="r", refund_id=refund_id)
        services.order_record_refund(order_id=confirmed.order_id, payment_id="pay_1",
                                     amount="5.00", refund_id=refund_id)
    assert [t for t, _ in events(confirmed.order_id)].count("RefundIssued") == 2
    assert str(services.repository.get(confirmed.order_id).refunded_total) == "10.00"


def test_refunding_a_delivered_order_in_full_makes_it_refunded(place):
    order = advance(place(), "delivered")
    refund_id = uuid.uuid4()
    services.order_request_refund(order_id=order.order_id, amount="27.50", reason="r",
                                  refund_id=refund_id)
    view = services.order_record_refund(order_id=order.order_id, payment_id="pay_1",
                                        amount="27.50", refund_id=refund_id)
    assert view.status == "refunded"
    assert [t for t, _ in events(order.order_id)][-2:] == ["RefundIssued", "OrderRefunded"]


def test_a_failed_refund_frees_its_amount_and_repeats_are_no_ops(confirmed):
    refund_id = uuid.uuid4()
    services.order_request_refund(order_id=confirmed.order_id, amount="27.50", reason="r",
                                  refund_id=refund_id)
    for _ in range(2):
        services.order_record_refund_failure(order_id=confirmed.order_id, refund_id=refund_id,
                                             reason="processor refused", code="declined")
    assert [t for t, _ in events(confirmed.order_id)].count("RefundFailed") == 1
    assert str(services.repository.get(confirmed.order_id).refundable) == "27.50"


def test_failing_a_refund_that_was_never_requested_is_refused(confirmed):
    before = snapshot(confirmed.order_id)
    with pytest.raises(Conflict):
        services.order_record_refund_failure(order_id=confirmed.order_id,
                                             refund_id=uuid.uuid4(), reason="x", code="y")
    assert snapshot(confirmed.order_id) == before
