"""Payment commands, made so that no transaction or row lock is held while the processor
is called (ARCHITECTURE §4):

1. `payment_<kind>_begin` records the operation as an intent (`pending`, with the caller's
   idempotency key, UNIQUE) in one short transaction and returns it; repeating it with the
   same key returns the operation already recorded.
2. `payment_operation_call(operation)` describes the processor call (an ExternalCall); the
   saga engine makes it between its transactions, `external.perform` for other callers.
3. `payment_operation_finish` records the answer in another transaction (idempotent).

`payment_operation_execute(operation)` chains 2 and 3 as a generator a saga step delegates
to with `yield from`. A crash between the call and the record leaves the operation pending:
running it again sends the same key, and the processor answers a repeated key with its
original result, so money moves once and is recorded once. A business refusal (declined,
refused for the charge's state) is recorded on the operation (and a declined authorization
on its payment) and returned to the caller; a transient failure (timeout, processor down)
records nothing and is raised, for the caller to retry with the same key.

`payment_authorize/capture/void/refund` do all three, for callers with no transaction open."""

from decimal import Decimal
from uuid import UUID

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from commerce.core import external, metrics
from commerce.core.errors import (
    DomainError,
    ErrorCode,
    NotFound,
    ServiceUnavailable,
    ValidationFailed,
)
from payments.gateways import get_gateway
from payments.gateways.base import GatewayRefused, GatewayResult, PaymentDeclined
from payments.models import (
    OperationStatus,
    Payment,
    PaymentOperation,
    PaymentOperationKind,
    PaymentStatus,
)

CENT = Decimal("0.01")
Kind = PaymentOperationKind
REFUSALS = (PaymentDeclined, GatewayRefused)


class InvalidPaymentState(GatewayRefused):
    default_message = "The payment is not in a state that allows this operation."


# --- 1. intents -------------------------------------------------------------------------
def payment_authorize_begin(*, order_id: UUID, amount, currency: str, payment_method: str,
                            idempotency_key: str) -> PaymentOperation:
    """Record the authorization we are about to ask for: a `pending` payment and its
    operation."""
    amount = _amount(amount)
    existing = _operation(idempotency_key)
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            payment = Payment.objects.create(
                order_id=order_id, status=PaymentStatus.PENDING, currency=currency,
                payment_method=payment_method or "", amount=amount, gateway=get_gateway().name)
            return PaymentOperation.objects.create(
                payment=payment, kind=Kind.AUTHORIZE, amount=amount,
                idempotency_key=idempotency_key)
    except IntegrityError:
        # A concurrent duplicate recorded the same intent first.
        existing = _operation(idempotency_key)
        if existing is None:
            raise
        return existing


def payment_capture_begin(*, payment_id: UUID, idempotency_key: str,
                          amount=None) -> PaymentOperation:
    with transaction.atomic():
        payment = _lock(payment_id)
        existing = _operation(idempotency_key)
        if existing is not None:
            return existing
        amount = payment.amount_authorized if amount is None else _amount(amount)
        if payment.status != PaymentStatus.AUTHORIZED or amount > payment.amount_authorized \
                or _in_flight(payment, Kind.CAPTURE, Kind.VOID):
            raise InvalidPaymentState(details={"status": payment.status})
        return _intent(payment, Kind.CAPTURE, amount, idempotency_key)


def payment_void_begin(*, payment_id: UUID, idempotency_key: str) -> PaymentOperation:
    with transaction.atomic():
        payment = _lock(payment_id)
        existing = _operation(idempotency_key)
        if existing is not None:
            return existing
        if payment.status != PaymentStatus.AUTHORIZED or _in_flight(payment, Kind.CAPTURE,
                                                                    Kind.VOID):
            raise InvalidPaymentState(details={"status": payment.status})
        return _intent(payment, Kind.VOID, payment.amount_authorized, idempotency_key)


def payment_refund_begin(*, payment_id: UUID, amount, idempotency_key: str) -> PaymentOperation:
    """Refunds in flight count against what is refundable, so concurrent refunds of one
    payment can never ask back more than was captured."""
    amount = _amount(amount)
    with transaction.atomic():
        payment = _lock(payment_id)
        existing = _operation(idempotency_key)
        if existing is not None:
            return existing
        pending = payment.operations.filter(kind=Kind.REFUND, status=OperationStatus.PENDING
                                            ).aggregate(s=Sum("amount"))["s"] or Decimal("0")
        refundable = payment.amount_captured - payment.amount_refunded - pending
        if payment.status not in (PaymentStatus.CAPTURED, PaymentStatus.PARTIALLY_REFUNDED) \
                or amount > refundable:
            raise InvalidPaymentState(details={"status": payment.status,
                                               "refundable": str(refundable)})
        return _intent(payment, Kind.REFUND, amount, idempotency_key)


# --- 2. the call ------------------------------------------------------------------------
def payment_operation_call(operation: PaymentOperation) -> external.ExternalCall:
    """The processor call for a pending operation. Its function reads only the values
    captured here: it runs with no transaction, possibly on another thread."""
    gateway, payment, key = get_gateway(), operation.payment, operation.idempotency_key
    amount, reference = operation.amount, payment.gateway_reference
    calls = {
        Kind.AUTHORIZE: lambda: gateway.authorize(
            amount=amount, currency=payment.currency, payment_method=payment.payment_method,
            idempotency_key=key),
        Kind.CAPTURE: lambda: gateway.capture(reference=reference, amount=amount,
                                              idempotency_key=key),
        Kind.VOID: lambda: gateway.void(reference=reference, idempotency_key=key),
        Kind.REFUND: lambda: gateway.refund(reference=reference, amount=amount,
                                            idempotency_key=key),
    }
    call = calls[operation.kind]
    return external.ExternalCall(fn=lambda: _counted(operation.kind, call),
                                 name=f"payments.{operation.kind}")


# --- 3. the answer ----------------------------------------------------------------------
def payment_operation_finish(*, operation_id: int, result: GatewayResult | None = None,
                             refusal: DomainError | None = None) -> Payment:
    """Record the processor's answer to a pending operation: its result, or its business
    refusal. A settled operation is left as it is (a repeated or late answer)."""
    with transaction.atomic():
        payment_id = PaymentOperation.objects.filter(pk=operation_id).values_list(
            "payment_id", flat=True).first()
        payment = _lock(payment_id)
        operation = PaymentOperation.objects.select_for_update().get(pk=operation_id)
        if operation.status != OperationStatus.PENDING:
            return payment
        now = timezone.now()
        if refusal is not None:
            _refusal_fields(payment, operation, refusal)
        else:
            _apply(payment, operation.kind, result)
            operation.status = OperationStatus.SUCCEEDED
            operation.gateway_reference = result.reference
            operation.amount = result.amount
        operation.completed_at = now
        operation.save(update_fields=["status", "error_code", "error_message",
                                      "gateway_reference", "amount", "completed_at"])
        payment.save()
        return payment


def payment_operation_execute(operation: PaymentOperation):
    """Generator: make the operation's call (yielding it) and record the answer. Returns
    (payment, refusal): the refusal (recorded) or None. Transient failures raise. An
    operation already settled makes no call."""
    if operation.status == OperationStatus.PENDING:
        outcome = yield payment_operation_call(operation)
        if outcome.error is None:
            return payment_operation_finish(operation_id=operation.id,
                                            result=outcome.value), None
        if isinstance(outcome.error, REFUSALS):
            return payment_operation_finish(operation_id=operation.id,
                                            refusal=outcome.error), outcome.error
        raise outcome.error
    operation.refresh_from_db()
    payment = Payment.objects.get(pk=operation.payment_id)
    if operation.status == OperationStatus.FAILED:  # the same refusal as the first time
        if operation.error_code == ErrorCode.PAYMENT_DECLINED:
            return payment, PaymentDeclined(operation.error_message or None,
                                            details={"decline_code": payment.failure_code})
        return payment, GatewayRefused(operation.error_message or None,
                                       code=operation.error_code or None)
    return payment, None


def payment_authorization_resolve(operation: PaymentOperation):
    """Generator for compensations: settle an authorization whose answer we never recorded
    by asking the processor what it did with its key, without authorizing anything now.
    Returns the payment (authorized if the processor has it, else declined)."""
    if operation.status != OperationStatus.PENDING:
        return Payment.objects.get(pk=operation.payment_id)
    gateway, key = get_gateway(), operation.idempotency_key
    outcome = yield external.ExternalCall(
        fn=lambda: gateway.find_authorization(idempotency_key=key),
        name="payments.find_authorization")
    found = outcome.unwrap()
    if found is None:
        return payment_operation_finish(operation_id=operation.id, refusal=GatewayRefused(
            "The processor has no authorization for this key.", code=ErrorCode.NOT_FOUND))
    return payment_operation_finish(operation_id=operation.id, result=found)


# --- all three, for callers with no transaction open -------------------------------------
def payment_authorize(*, order_id: UUID, amount, currency: str, payment_method: str,
                      idempotency_key: str) -> Payment:
    return _run(payment_authorize_begin(order_id=order_id, amount=amount, currency=currency,
                                        payment_method=payment_method,
                                        idempotency_key=idempotency_key))


def payment_capture(*, payment_id: UUID, idempotency_key: str, amount=None) -> Payment:
    return _run(payment_capture_begin(payment_id=payment_id, idempotency_key=idempotency_key,
                                      amount=amount))


def payment_void(*, payment_id: UUID, idempotency_key: str) -> Payment:
    return _run(payment_void_begin(payment_id=payment_id, idempotency_key=idempotency_key))


def payment_refund(*, payment_id: UUID, amount, idempotency_key: str) -> Payment:
    return _run(payment_refund_begin(payment_id=payment_id, amount=amount,
                                     idempotency_key=idempotency_key))


# --- helpers ------------------------------------------------------------------------------
def _run(operation: PaymentOperation) -> Payment:
    payment, refusal = external.drive(payment_operation_execute(operation))
    if refusal is not None:
        raise refusal
    return payment


def _apply(payment: Payment, kind: str, result: GatewayResult) -> None:
    if kind == Kind.AUTHORIZE:
        payment.status = PaymentStatus.AUTHORIZED
        payment.amount_authorized = result.amount
        payment.gateway_reference = result.reference
    elif kind == Kind.CAPTURE:
        payment.status = PaymentStatus.CAPTURED
        payment.amount_captured = result.amount
    elif kind == Kind.VOID:
        payment.status = PaymentStatus.VOIDED
    else:
        payment.amount_refunded += result.amount
        payment.status = (PaymentStatus.REFUNDED if payment.amount_refunded
                          == payment.amount_captured else PaymentStatus.PARTIALLY_REFUNDED)


def _refusal_fields(payment: Payment, operation: PaymentOperation, refusal) -> None:
    """A business refusal on the operation (and a declined authorization on its payment)."""
    operation.status = OperationStatus.FAILED
    operation.error_code = str(getattr(refusal, "code", "refused"))
    operation.error_message = getattr(refusal, "message", str(refusal))[:2000]
    if operation.kind == Kind.AUTHORIZE:
        payment.status = PaymentStatus.DECLINED
        payment.failure_code = (refusal.details or {}).get("decline_code") \
            or operation.error_code
        payment.failure_message = operation.error_message


def _amount(value) -> Decimal:
    try:
        amount = Decimal(value).quantize(CENT)
    except Exception as exc:
        raise ValidationFailed(details={"amount": ["Not a decimal amount."]}) from exc
    if amount <= 0:
        raise ValidationFailed(details={"amount": ["Must be positive."]})
    return amount


def _counted(action: str, call):
    try:
        result = call()
    except PaymentDeclined:
        metrics.PAYMENTS.labels(action=action, outcome="declined").inc()
        raise
    except ServiceUnavailable:
        metrics.PAYMENTS.labels(action=action, outcome="timeout").inc()
        raise
    except GatewayRefused:
        metrics.PAYMENTS.labels(action=action, outcome="refused").inc()
        raise
    except Exception:
        metrics.PAYMENTS.labels(action=action, outcome="error").inc()
        raise
    metrics.PAYMENTS.labels(action=action, outcome="ok").inc()
    return result


def _operation(idempotency_key: str) -> PaymentOperation | None:
    return (PaymentOperation.objects.select_related("payment")
            .filter(idempotency_key=idempotency_key).first())


def _in_flight(payment: Payment, *kinds: str) -> bool:
    return payment.operations.filter(kind__in=kinds, status=OperationStatus.PENDING).exists()


def _intent(payment: Payment, kind: str, amount: Decimal, key: str) -> PaymentOperation:
    operation = PaymentOperation.objects.create(payment=payment, kind=kind, amount=amount,
                                                idempotency_key=key)
    operation.payment = payment
    return operation


def _lock(payment_id) -> Payment:
    payment = Payment.objects.select_for_update().filter(pk=payment_id).first()
    if payment is None:
        raise NotFound("Payment not found.", details={"payment_id": str(payment_id)},
                       code=ErrorCode.NOT_FOUND)
    return payment
