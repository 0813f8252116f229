"""The refund saga: RefundRequested → the processor refunds → RefundIssued (or RefundFailed
when the processor refuses). Eager Celery; on-commit callbacks executed in the test."""

import uuid
from decimal import Decimal

import pytest

from commerce.eventstore.models import Event
from orders import services as order_services
from orders.selectors import order_get
from payments import services as payment_services
from payments.models import Payment, PaymentOperation
from sagas.flows import refund
from sagas.models import SagaInstance, SagaStatus
from tests.factories import make_item
from tests.sagas.helpers import assert_consistent, cancellation_saga, place

pytestmark = pytest.mark.django_db


@pytest.fixture
def confirmed(customer, django_capture_on_commit_callbacks):
    """A confirmed, captured order of 20.00."""
    item = make_item(price="10.00", quantity=10)
    with django_capture_on_commit_callbacks(execute=True):
        order = place(customer, item, quantity=2)
    assert order_get(order_id=order.order_id).status == "confirmed"
    return order.order_id


@pytest.fixture
def request_refund(django_capture_on_commit_callbacks):
    def go(order_id, amount, *, refund_id=None, execute=True):
        refund_id = refund_id or uuid.uuid4()
        with django_capture_on_commit_callbacks(execute=execute):
            order_services.order_request_refund(order_id=order_id, amount=amount,
                                                reason="damaged in transit",
                                                refund_id=refund_id)
        return refund_id
    return go


def order_events(order_id, *types):
    return [(e.event_type, e.event_data) for e in Event.objects.filter(
        aggregate_id=order_id, event_type__in=types).order_by("version")]


def test_a_partial_refund_goes_back_through_the_processor_once(confirmed, request_refund):
    # when staff refund 7.50 of 20.00
    refund_id = request_refund(confirmed, "7.50")
    # then the processor refunded it, the order recorded it with the refund id
    payment = Payment.objects.get(order_id=confirmed)
    assert (payment.status, payment.amount_refunded) == ("partially_refunded", Decimal("7.50"))
    assert list(PaymentOperation.objects.filter(kind="refund").values_list(
        "idempotency_key", "amount")) == [(f"refund:{refund_id}", Decimal("7.50"))]
    assert order_events(confirmed, "RefundIssued") == [("RefundIssued", {
        "payment_id": str(payment.id), "amount": "7.50", "refund_id": str(refund_id),
        "reason": "damaged in transit"})]
    order = order_get(order_id=confirmed)
    assert (order.status, order.refunded_amount) == ("confirmed", Decimal("7.50"))
    saga = SagaInstance.objects.get(saga_type=refund.SAGA_TYPE, correlation_id=confirmed)
    assert saga.status == SagaStatus.COMPLETED
    assert_consistent(confirmed)


def test_partial_refunds_add_up_to_the_whole_capture(confirmed, request_refund):
    for amount in ("5.00", "5.00", "10.00"):
        request_refund(confirmed, amount)
    payment = Payment.objects.get(order_id=confirmed)
    assert (payment.status, payment.amount_refunded) == ("refunded", Decimal("20.00"))
    assert [d["amount"] for _, d in order_events(confirmed, "RefundIssued")] == [
        "5.00", "5.00", "10.00"]
    assert SagaInstance.objects.filter(saga_type=refund.SAGA_TYPE,
                                       status=SagaStatus.COMPLETED).count() == 3
    assert_consistent(confirmed)


def test_a_refund_the_processor_refuses_is_recorded_as_failed(confirmed, request_refund):
    # given the whole capture was already refunded by another path (the order does not
    # know yet, so it still accepts the request)
    payment = Payment.objects.get(order_id=confirmed)
    payment_services.payment_refund(payment_id=payment.id, amount="20.00",
                                    idempotency_key="out-of-band")
    # when staff request 5.00
    refund_id = request_refund(confirmed, "5.00")
    # then nothing more moved and the order says the refund failed
    payment.refresh_from_db()
    assert payment.amount_refunded == Decimal("20.00")
    assert not PaymentOperation.objects.filter(idempotency_key=f"refund:{refund_id}").exists()
    assert order_events(confirmed, "RefundIssued") == []
    [(_, failed)] = order_events(confirmed, "RefundFailed")
    assert (failed["refund_id"], failed["code"]) == (str(refund_id), "invalid_payment_state")
    saga = SagaInstance.objects.get(saga_type=refund.SAGA_TYPE, correlation_id=confirmed)
    assert saga.status == SagaStatus.COMPENSATED


def test_a_cancellation_waits_for_refunds_in_flight(confirmed, request_refund,
                                                    django_capture_on_commit_callbacks):
    # given a refund of 5.00 whose saga has not run yet (the lifecycle refuses refunds while
    # a cancellation is pending, not cancellations while a refund is)
    refund_id = request_refund(confirmed, "5.00", execute=False)
    # when a cancellation is requested and both sagas run
    with django_capture_on_commit_callbacks(execute=True):
        order_services.order_request_cancellation(order_id=confirmed, reason="changed mind")
    # then the cancellation's review waited for the refund to go through, then refunded
    # exactly what was left and cancelled the order
    issued = [d for _, d in order_events(confirmed, "RefundIssued")]
    assert [(d["amount"], d.get("refund_id")) for d in issued] == [
        ("5.00", str(refund_id)), ("15.00", None)]
    payment = Payment.objects.get(order_id=confirmed)
    assert (payment.status, payment.amount_refunded) == ("refunded", Decimal("20.00"))
    assert order_get(order_id=confirmed).status == "cancelled"
    assert cancellation_saga(confirmed).status == SagaStatus.COMPLETED
    assert_consistent(confirmed)
