"""Payments against the payment processor simulator, over HTTP (tests/conftest.py)."""

import uuid
from decimal import Decimal

import pytest

from commerce.core import external
from payments import services
from payments.gateways import GatewayRefused, GatewayTimeout, PaymentDeclined, get_gateway
from payments.models import Payment, PaymentOperation

pytestmark = pytest.mark.django_db


def authorize(method="pm_card_visa", key=None, amount="25.50", order_id=None):
    return services.payment_authorize(
        order_id=order_id or uuid.uuid4(), amount=amount, currency="USD",
        payment_method=method, idempotency_key=key or f"k-{uuid.uuid4()}")


def test_authorize_capture_refund_lifecycle(payment_processor):
    # given / when
    payment = authorize()
    services.payment_capture(payment_id=payment.id, idempotency_key="cap-1")
    services.payment_refund(payment_id=payment.id, amount=Decimal("5.50"),
                            idempotency_key="ref-1")
    payment.refresh_from_db()
    # then our records and the processor's agree
    assert (payment.status, payment.amount_authorized, payment.amount_captured,
            payment.amount_refunded) == ("partially_refunded", Decimal("25.50"),
                                         Decimal("25.50"), Decimal("5.50"))
    assert [o.kind for o in payment.operations.all()] == ["authorize", "capture", "refund"]
    intent = payment_processor.payment_intent(payment.gateway_reference)
    assert (intent["status"], intent["currency"], intent["amount"], intent["amount_received"],
            intent["amount_refunded"]) == ("succeeded", "usd", 2550, 2550, 550)
    # when the rest is refunded
    services.payment_refund(payment_id=payment.id, amount=Decimal("20.00"),
                            idempotency_key="ref-2")
    payment.refresh_from_db()
    assert payment.status == "refunded" and payment.amount_refunded == Decimal("25.50")


def test_same_key_never_charges_twice():
    # given an authorization
    first = authorize(key="auth-dup")
    # when the same call is repeated (a retried saga step)
    second = authorize(key="auth-dup", order_id=first.order_id)
    # then one payment, one operation, one processor charge
    assert second.id == first.id
    assert Payment.objects.count() == 1 and PaymentOperation.objects.count() == 1
    services.payment_capture(payment_id=first.id, idempotency_key="cap")
    services.payment_capture(payment_id=first.id, idempotency_key="cap")
    assert PaymentOperation.objects.filter(kind="capture").count() == 1


def test_processor_returns_original_answer_when_our_record_was_lost(payment_processor):
    # given the processor answered but our transaction never recorded it (worker died)
    answer = get_gateway().authorize(amount=Decimal("9.99"), currency="USD",
                               payment_method="pm_card_visa", idempotency_key="lost")
    # when the step is retried with the same key
    payment = authorize(key="lost", amount="9.99")
    # then the same charge is recorded, not a second one
    assert payment.gateway_reference == answer.reference
    assert [i["id"] for i in payment_processor.payment_intents()] == [answer.reference]


def test_a_declined_card_is_recorded_and_a_retry_gets_the_same_decline():
    with pytest.raises(PaymentDeclined) as exc:
        authorize(method="pm_card_chargeDeclined", key="dec")
    assert exc.value.code == "payment_declined"
    # the attempt is on record for staff: declined, nothing authorized
    [payment] = Payment.objects.all()
    assert (payment.status, payment.amount, payment.amount_authorized,
            payment.failure_code) == ("declined", Decimal("25.50"), 0, "generic_decline")
    assert list(payment.operations.values_list("kind", "status", "error_code")) == [
        ("authorize", "failed", "payment_declined")]
    # a retry with the same key gets the same decline, without another record
    with pytest.raises(PaymentDeclined):
        authorize(method="pm_card_chargeDeclined", key="dec")
    assert PaymentOperation.objects.count() == 1


def test_unknown_payment_method_is_declined():
    with pytest.raises(PaymentDeclined):
        authorize(method="pm_nonsense")
    assert Payment.objects.get().status == "declined"


def test_a_timeout_leaves_the_intent_pending_and_the_retry_settles_it(settings,
                                                                     payment_processor):
    # given the processor charges pm_card_timeout but holds back its answer longer than we
    # wait, for as many requests per key as two whole gateway calls make (with retries)
    settings.PAYMENT_API_TIMEOUT_SECONDS = 0.5
    payment_processor.configure(timeouts_per_key=2 * get_gateway().retry.attempts)
    for _ in range(2):
        with pytest.raises(GatewayTimeout):
            authorize(method="pm_card_timeout", key="slow")
    # then the intent is recorded, its answer unknown; the processor holds one charge
    assert list(PaymentOperation.objects.values_list("kind", "status")) == [
        ("authorize", "pending")]
    assert Payment.objects.get().status == "pending"
    assert len(payment_processor.payment_intents(idempotency_key="slow")) == 1
    # when retried a third time with the same key
    payment = authorize(method="pm_card_timeout", key="slow")
    # then exactly one authorization, settled on the same records
    assert payment.status == "authorized"
    assert list(PaymentOperation.objects.values_list("kind", "status")) == [
        ("authorize", "succeeded")]
    assert Payment.objects.count() == 1
    assert [i["id"] for i in payment_processor.payment_intents(idempotency_key="slow")] == [
        payment.gateway_reference]
    with pytest.raises(GatewayTimeout):
        authorize(method="pm_card_timeout", key="other")  # another key counts on its own


def test_an_unrecorded_authorization_is_resolved_by_asking_the_processor():
    # given an authorization the processor made, whose answer we never recorded
    operation = services.payment_authorize_begin(
        order_id=uuid.uuid4(), amount="9.99", currency="USD", payment_method="pm_card_visa",
        idempotency_key="lost-auth")
    answer = get_gateway().authorize(amount=Decimal("9.99"), currency="USD",
                                     payment_method="pm_card_visa", idempotency_key="lost-auth")
    # when a compensation resolves it (asking, not authorizing)
    payment = external.drive(services.payment_authorization_resolve(operation))
    # then the processor's authorization is recorded, once
    assert (payment.status, payment.gateway_reference) == ("authorized", answer.reference)
    # and one the processor never saw is settled as declined
    missing = services.payment_authorize_begin(
        order_id=uuid.uuid4(), amount="1.00", currency="USD", payment_method="pm_card_visa",
        idempotency_key="never-sent")
    payment = external.drive(services.payment_authorization_resolve(missing))
    assert (payment.status, payment.failure_code) == ("declined", "not_found")


def test_the_processor_is_never_called_inside_a_transaction():
    from django.db import transaction

    with pytest.raises(RuntimeError, match="inside a transaction"), transaction.atomic():
        authorize(key="in-tx")
    assert not PaymentOperation.objects.filter(idempotency_key="in-tx").exists()


def test_refunds_in_flight_count_against_what_is_refundable():
    # given a captured 10.00 with a 6.00 refund recorded but not answered yet
    payment = authorize(amount="10.00")
    services.payment_capture(payment_id=payment.id, idempotency_key="cap")
    services.payment_refund_begin(payment_id=payment.id, amount="6.00", idempotency_key="r1")
    # when another 5.00 is asked
    with pytest.raises(GatewayRefused) as refused:
        services.payment_refund_begin(payment_id=payment.id, amount="5.00",
                                      idempotency_key="r2")
    # then it is refused: 4.00 is all that can still go back
    assert refused.value.details["refundable"] == "4.00"
    assert not PaymentOperation.objects.filter(idempotency_key="r2").exists()


def test_void_then_capture_is_refused_and_changes_nothing():
    payment = authorize()
    services.payment_void(payment_id=payment.id, idempotency_key="void")
    with pytest.raises(GatewayRefused):
        services.payment_capture(payment_id=payment.id, idempotency_key="cap")
    payment.refresh_from_db()
    assert payment.status == "voided" and payment.amount_captured == 0
    assert [o.kind for o in payment.operations.all()] == ["authorize", "void"]


def test_refund_more_than_captured_is_refused():
    payment = authorize(amount="10.00")
    services.payment_capture(payment_id=payment.id, idempotency_key="cap")
    with pytest.raises(GatewayRefused):
        services.payment_refund(payment_id=payment.id, amount=Decimal("10.01"),
                                idempotency_key="r")
    payment.refresh_from_db()
    assert payment.amount_refunded == 0
    assert [o.kind for o in payment.operations.all()] == ["authorize", "capture"]


def test_key_reused_with_other_parameters_is_refused():
    get_gateway().authorize(amount=Decimal("1.00"), currency="USD",
                            payment_method="pm_card_visa", idempotency_key="same")
    with pytest.raises(GatewayRefused):
        authorize(key="same", amount="2.00")
    # the refusal is recorded on the attempt; nothing was authorized
    assert list(Payment.objects.values_list("status", "amount_authorized")) == [
        ("declined", 0)]


@pytest.mark.parametrize("amount", ["0", "-1", "abc"])
def test_invalid_amounts_are_validation_errors(amount):
    from commerce.core.errors import ValidationFailed
    with pytest.raises(ValidationFailed):
        authorize(amount=amount)
    assert Payment.objects.count() == 0
