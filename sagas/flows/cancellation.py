"""Order cancellation: review (may wait for staff approval) → void or refund the payment →
release or restock the inventory → cancel the order.

Review waits while the order's fulfilment saga is still running (so the two never act on
the same payment at once), then decides whether a person must approve: a refund above
settings.CANCELLATION_APPROVAL_THRESHOLD, or a cancellation after fulfilment (goods
shipped). Rejecting runs the review's compensation, `order_reject_cancellation`, and the
order is otherwise unchanged.

Once money has moved (void or refund), the cancellation can only go forward: a later
refusal makes the rejection compensation refuse too, so the saga becomes FAILED and a
person repairs it, instead of leaving a refunded order looking uncancelled."""

from decimal import Decimal
from uuid import UUID

from django.conf import settings

from commerce.core.errors import Conflict
from inventory import selectors as inventory_selectors
from inventory import services as inventory_services
from orders import selectors as order_selectors
from orders import services as order_services
from orders.lifecycle import TERMINAL
from payments import selectors as payment_selectors
from payments import services as payment_services
from payments.models import PaymentStatus
from sagas.definitions import AWAIT_APPROVAL, SagaContext, SagaDefinition, Step, register
from sagas.errors import StepPending
from sagas.models import ACTIVE_STATUSES, SagaInstance

SAGA_TYPE = "order_cancellation"
FULFILLED = "fulfilled"
# Some units shipped (split shipments): restocking releases the rest and restocks those.
SHIPPED_ANY = (FULFILLED, "partially_fulfilled")


def _order_id(ctx: SagaContext) -> UUID:
    return UUID(ctx.correlation_id)


def _reservation_status(order_id: UUID) -> str | None:
    reservation = inventory_selectors.reservation_get_for_order(order_id=order_id)
    return None if reservation is None else str(reservation.status)


def review(ctx: SagaContext):
    from sagas.flows.fulfilment import SAGA_TYPE as FULFILMENT
    from sagas.flows.refund import SAGA_TYPE as REFUND

    order_id = _order_id(ctx)
    # Both act on the order's payment: settle after them, on what they left.
    if SagaInstance.objects.filter(correlation_id=order_id, saga_type__in=(FULFILMENT, REFUND),
                                   status__in=ACTIVE_STATUSES).exists():
        raise StepPending("waiting for the order's fulfilment or refund sagas to finish")
    order = order_selectors.order_get(order_id=order_id)
    if order.status in TERMINAL:
        # e.g. the fulfilment failed meanwhile: nothing left to cancel.
        raise Conflict(f"The order is already {order.status}.",
                       details={"status": order.status})
    payment = payment_selectors.payment_active_for_order(order_id=order_id)
    refund = Decimal("0.00")
    if payment is not None and payment.status in (PaymentStatus.CAPTURED,
                                                  PaymentStatus.PARTIALLY_REFUNDED):
        refund = payment.amount_captured - payment.amount_refunded
    fulfilled = _reservation_status(order_id) in SHIPPED_ANY
    reasons = []
    if refund > settings.CANCELLATION_APPROVAL_THRESHOLD:
        reasons.append(f"refund {refund} above {settings.CANCELLATION_APPROVAL_THRESHOLD}")
    if fulfilled:
        reasons.append("order already fulfilled")
    ctx.set(refund_amount=str(refund), approval_reasons=reasons)
    approval = ctx.get("approval") or {}
    if reasons and not approval.get("approved"):
        return AWAIT_APPROVAL
    return None


def reject_cancellation(ctx: SagaContext):
    if order_selectors.order_get(order_id=_order_id(ctx)).status in TERMINAL:
        return {"rejected": False}  # the order ended otherwise; no pending request to answer
    if ctx.get("payment_settled") in ("voided", "refunded"):
        raise Conflict("Money already moved for this cancellation; it cannot be rejected. "
                       "Repair by hand.", details={"order_id": ctx.correlation_id})
    failure = ctx.get("failure") or {}
    order_services.order_reject_cancellation(
        order_id=_order_id(ctx), reason=failure.get("message") or "Cancellation rejected.")


def settle_payment(ctx: SagaContext):
    order_id = _order_id(ctx)
    payment = payment_selectors.payment_active_for_order(order_id=order_id)
    if payment is None:
        return {"payment_settled": "none"}
    if payment.status == PaymentStatus.AUTHORIZED:
        void = payment_services.payment_void_begin(
            payment_id=payment.id, idempotency_key=ctx.idempotency_key("void"))
        _, refusal = yield from payment_services.payment_operation_execute(void)
        if refusal is not None:
            raise refusal
        return {"payment_settled": "voided", "payment_id": str(payment.id)}
    if payment.status == PaymentStatus.PENDING:
        # The fulfilment saga ended (review waited for it) with the authorization's answer
        # unrecorded; it is left for staff, never guessed.
        raise Conflict("The order's payment authorization is unresolved.",
                       details={"payment_id": str(payment.id)})
    amount = payment.amount_captured - payment.amount_refunded
    if amount > 0:
        # A re-run after a crash gets the operation its key already recorded (and amount).
        operation = payment_services.payment_refund_begin(
            payment_id=payment.id, amount=amount, idempotency_key=ctx.idempotency_key("refund"))
        _, refusal = yield from payment_services.payment_operation_execute(operation)
        if refusal is not None:
            raise refusal
        amount = operation.amount
        order_services.order_record_refund(order_id=order_id, payment_id=payment.id,
                                           amount=amount)
    return {"payment_settled": "refunded", "payment_id": str(payment.id),
            "refunded": str(amount)}


def restore_stock(ctx: SagaContext):
    order_id = _order_id(ctx)
    status = _reservation_status(order_id)
    reason = f"order cancelled: {ctx.get('reason') or ''}".strip()
    if status in (None, "released", "expired", "restocked"):
        return {"stock": "none"}  # nothing held any more (or already put back)
    if status in SHIPPED_ANY:
        inventory_services.reservation_restock(order_id=order_id, reason=reason)
        return {"stock": "restocked"}
    inventory_services.reservation_release(order_id=order_id, reason=reason, order_ending=True)
    return {"stock": "released"}


def cancel_order(ctx: SagaContext):
    order_services.order_cancel(order_id=_order_id(ctx),
                                reason=ctx.get("reason") or "Cancelled.")


DEFINITION = register(SagaDefinition(saga_type=SAGA_TYPE, steps=(
    Step("review", review, reject_cancellation),
    Step("settle_payment", settle_payment, None),
    Step("restore_stock", restore_stock, None),
    Step("cancel_order", cancel_order, None),
)))


def initial_data(event) -> dict:
    return {"order_id": str(event.aggregate_id), "reason": event.data.get("reason", ""),
            "requested_by": event.metadata.get("actor")}
