"""Payments against the payment processor simulator, over HTTP (tests/conftest.py)."""

import uuid
from decimal import Decimal

import pytest

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


def test_declined_card_records_nothing():
    with pytest.raises(PaymentDeclined) as exc:
        authorize(method="pm_card_chargeDeclined", key="dec")
    assert exc.value.code == "payment_declined"
    assert Payment.objects.count() == 0 and PaymentOperation.objects.count() == 0
    # a retry with the same key gets the same decline
    with pytest.raises(PaymentDeclined):
        authorize(method="pm_card_chargeDeclined", key="dec")


def test_unknown_payment_method_is_declined():
    with pytest.raises(PaymentDeclined):
        authorize(method="pm_nonsense")
    assert Payment.objects.count() == 0


def test_timeouts_are_counted_per_key_then_succeed(settings, payment_processor):
    # given the processor charges pm_card_timeout but holds back its answer longer than we
    # wait, for as many requests per key as two whole gateway calls make (with retries)
    settings.PAYMENT_API_TIMEOUT_SECONDS = 0.5
    payment_processor.configure(timeouts_per_key=2 * get_gateway().retry.attempts)
    for _ in range(2):
        with pytest.raises(GatewayTimeout):
            authorize(method="pm_card_timeout", key="slow")
    assert Payment.objects.count() == 0
    assert len(payment_processor.payment_intents(idempotency_key="slow")) == 1
    # when retried a third time
    payment = authorize(method="pm_card_timeout", key="slow")
    # then exactly one authorization; another key starts its own count
    assert payment.status == "authorized"
    assert PaymentOperation.objects.filter(kind="authorize").count() == 1
    assert [i["id"] for i in payment_processor.payment_intents(idempotency_key="slow")] == [
        payment.gateway_reference]
    with pytest.raises(GatewayTimeout):
        authorize(method="pm_card_timeout", key="other")


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
    assert payment.amount_refunded == 0 and payment.operations.count() == 2


def test_key_reused_with_other_parameters_is_refused():
    get_gateway().authorize(amount=Decimal("1.00"), currency="USD",
                            payment_method="pm_card_visa", idempotency_key="same")
    with pytest.raises(GatewayRefused):
        authorize(key="same", amount="2.00")
    assert Payment.objects.count() == 0


@pytest.mark.parametrize("amount", ["0", "-1", "abc"])
def test_invalid_amounts_are_validation_errors(amount):
    from commerce.core.errors import ValidationFailed
    with pytest.raises(ValidationFailed):
        authorize(amount=amount)
    assert Payment.objects.count() == 0
