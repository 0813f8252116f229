"""A requested refund (staff goodwill, a received return): RefundRequested on the order →
give the money back through the processor → RefundIssued, or RefundFailed if the
processor refuses (nothing moved; the amount is refundable again).

One saga per refund (its data carries the refund_id), so several partial refunds of one
order run side by side; the order's RefundRequested already reserved each amount against
the capture, and the payment row's own check (refunded ≤ captured, under its lock) is the
last guard. The processor call carries the idempotency key `refund:<refund_id>`, so a
retried or recovered step never refunds twice."""

from decimal import Decimal
from uuid import UUID

from commerce.core.errors import Conflict
from orders import services as order_services
from payments import selectors as payment_selectors
from payments import services as payment_services
from sagas.definitions import Refused, SagaContext, SagaDefinition, Step, register

SAGA_TYPE = "order_refund"


def _order_id(ctx: SagaContext) -> UUID:
    return UUID(ctx.correlation_id)


def record_failure(ctx: SagaContext):
    failure = ctx.get("failure") or {}
    order_services.order_record_refund_failure(
        order_id=_order_id(ctx), refund_id=ctx.get("refund_id"),
        reason=failure.get("message") or "The refund was refused.",
        code=failure.get("code") or "refund_failed")


def refund_payment(ctx: SagaContext):
    order_id = _order_id(ctx)
    amount = Decimal(ctx.get("amount"))
    payment = payment_selectors.payment_active_for_order(order_id=order_id)
    if payment is None:  # the processor decides the rest (e.g. nothing left to refund)
        raise Conflict("The order has no captured payment to refund.",
                       details={"order_id": str(order_id)})
    operation = payment_services.payment_refund_begin(
        payment_id=payment.id, amount=amount, idempotency_key=f"refund:{ctx.get('refund_id')}")
    _, refusal = yield from payment_services.payment_operation_execute(operation)
    if refusal is not None:
        return Refused(refusal)  # recorded on the operation; the order records RefundFailed
    order_services.order_record_refund(order_id=order_id, payment_id=payment.id,
                                       amount=amount, refund_id=ctx.get("refund_id"),
                                       reason=ctx.get("reason") or "")
    return {"payment_id": str(payment.id)}


DEFINITION = register(SagaDefinition(saga_type=SAGA_TYPE, steps=(
    Step("start", None, record_failure),
    Step("refund_payment", refund_payment, None),
)))


def initial_data(event) -> dict:
    return {"order_id": str(event.aggregate_id), "refund_id": event.data["refund_id"],
            "amount": event.data["amount"], "reason": event.data.get("reason", ""),
            "requested_by": event.metadata.get("actor")}
