"""Payment commands. Each calls the gateway with the caller's idempotency key and records
the answer in the same transaction as the state change; a repeated call with a key that is
already recorded returns the payment unchanged (no second gateway call, no second charge).

A gateway timeout (GatewayTimeout, transient) or decline (PaymentDeclined, business) is
raised to the caller with nothing written on our side."""

from decimal import Decimal
from uuid import UUID

from django.db import IntegrityError, transaction

from commerce.core import metrics
from commerce.core.errors import ErrorCode, NotFound, ServiceUnavailable, ValidationFailed
from payments.gateways import get_gateway
from payments.gateways.base import GatewayRefused, PaymentDeclined
from payments.models import Payment, PaymentOperation, PaymentOperationKind, PaymentStatus

CENT = Decimal("0.01")


class InvalidPaymentState(GatewayRefused):
    default_message = "The payment is not in a state that allows this operation."


def payment_authorize(*, order_id: UUID, amount: Decimal, currency: str, payment_method: str,
                      idempotency_key: str) -> Payment:
    amount = _amount(amount)
    existing = _recorded(idempotency_key)
    if existing is not None:
        return existing
    gateway = get_gateway()
    result = _call("authorize", lambda: gateway.authorize(
        amount=amount, currency=currency, payment_method=payment_method or "",
        idempotency_key=idempotency_key))
    try:
        with transaction.atomic():
            payment = Payment.objects.create(
                order_id=order_id, status=PaymentStatus.AUTHORIZED, currency=currency,
                payment_method=payment_method, amount_authorized=result.amount,
                gateway=gateway.name, gateway_reference=result.reference,
            )
            PaymentOperation.objects.create(
                payment=payment, kind=PaymentOperationKind.AUTHORIZE, amount=result.amount,
                idempotency_key=idempotency_key, gateway_reference=result.reference)
    except IntegrityError:
        # A concurrent duplicate got the same answer (same charge) and recorded it first.
        existing = _recorded(idempotency_key)
        if existing is None:
            raise
        return existing
    return payment


def payment_capture(*, payment_id: UUID, idempotency_key: str,
                    amount: Decimal | None = None) -> Payment:
    with transaction.atomic():
        payment = _lock(payment_id)
        if _done(idempotency_key):
            return payment
        amount = payment.amount_authorized if amount is None else _amount(amount)
        if payment.status != PaymentStatus.AUTHORIZED or amount > payment.amount_authorized:
            raise InvalidPaymentState(details={"status": payment.status})
        result = _call("capture", lambda: get_gateway().capture(
            reference=payment.gateway_reference, amount=amount,
            idempotency_key=idempotency_key))
        payment.status = PaymentStatus.CAPTURED
        payment.amount_captured = result.amount
        return _record(payment, PaymentOperationKind.CAPTURE, result.amount, idempotency_key)


def payment_void(*, payment_id: UUID, idempotency_key: str) -> Payment:
    with transaction.atomic():
        payment = _lock(payment_id)
        if _done(idempotency_key):
            return payment
        if payment.status != PaymentStatus.AUTHORIZED:
            raise InvalidPaymentState(details={"status": payment.status})
        _call("void", lambda: get_gateway().void(
            reference=payment.gateway_reference, idempotency_key=idempotency_key))
        payment.status = PaymentStatus.VOIDED
        return _record(payment, PaymentOperationKind.VOID, Decimal("0.00"), idempotency_key)


def payment_refund(*, payment_id: UUID, amount: Decimal, idempotency_key: str) -> Payment:
    amount = _amount(amount)
    with transaction.atomic():
        payment = _lock(payment_id)
        if _done(idempotency_key):
            return payment
        refundable = payment.amount_captured - payment.amount_refunded
        if payment.status not in (PaymentStatus.CAPTURED, PaymentStatus.PARTIALLY_REFUNDED) \
                or amount > refundable:
            raise InvalidPaymentState(details={"status": payment.status,
                                               "refundable": str(refundable)})
        result = _call("refund", lambda: get_gateway().refund(
            reference=payment.gateway_reference, amount=amount,
            idempotency_key=idempotency_key))
        payment.amount_refunded += result.amount
        payment.status = (PaymentStatus.REFUNDED if payment.amount_refunded
                          == payment.amount_captured else PaymentStatus.PARTIALLY_REFUNDED)
        return _record(payment, PaymentOperationKind.REFUND, result.amount, idempotency_key)


# --- helpers ------------------------------------------------------------------------------
def _amount(value) -> Decimal:
    try:
        amount = Decimal(value).quantize(CENT)
    except Exception as exc:
        raise ValidationFailed(details={"amount": ["Not a decimal amount."]}) from exc
    if amount <= 0:
        raise ValidationFailed(details={"amount": ["Must be positive."]})
    return amount


def _call(action: str, fn):
    try:
        result = fn()
    except PaymentDeclined:
        metrics.PAYMENTS.labels(action=action, outcome="declined").inc()
        raise
    except ServiceUnavailable:
        metrics.PAYMENTS.labels(action=action, outcome="timeout").inc()
        raise
    except GatewayRefused:
        metrics.PAYMENTS.labels(action=action, outcome="refused").inc()
        raise
    metrics.PAYMENTS.labels(action=action, outcome="ok").inc()
    return result


def _recorded(idempotency_key: str) -> Payment | None:
    op = (PaymentOperation.objects.filter(idempotency_key=idempotency_key,
                                          kind=PaymentOperationKind.AUTHORIZE)
          .select_related("payment").first())
    return op.payment if op else None


def _done(idempotency_key: str) -> bool:
    return PaymentOperation.objects.filter(idempotency_key=idempotency_key).exists()


def _lock(payment_id) -> Payment:
    payment = Payment.objects.select_for_update().filter(pk=payment_id).first()
    if payment is None:
        raise NotFound("Payment not found.", details={"payment_id": str(payment_id)},
                       code=ErrorCode.NOT_FOUND)
    return payment


def _record(payment: Payment, kind: str, amount: Decimal, idempotency_key: str) -> Payment:
    payment.save(update_fields=["status", "amount_captured", "amount_refunded", "updated_at"])
    PaymentOperation.objects.create(payment=payment, kind=kind, amount=amount,
                                    idempotency_key=idempotency_key,
                                    gateway_reference=payment.gateway_reference)
    return payment
