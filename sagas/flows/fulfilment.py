"""Order fulfilment: reserve inventory → authorize payment → confirm reservation → capture
payment → confirm order, each outcome recorded on the order through its saga-facing
commands (docs/CONTRACTS.md).

Compensations, newest first: refund a captured payment, void an authorization, release the
reservation, and finally fail the order with the reason of the step that was refused
(`insufficient_stock`, `payment_declined`, …). The first step is Eventuate's trick: it does
nothing forward, and its compensation fails the order, so every refusal ends there."""

from decimal import Decimal
from uuid import UUID

from inventory import selectors as inventory_selectors
from inventory import services as inventory_services
from orders import selectors as order_selectors
from orders import services as order_services
from payments import services as payment_services
from payments.models import Payment, PaymentStatus
from sagas.definitions import END_SAGA, SagaContext, SagaDefinition, Step, register

SAGA_TYPE = "order_fulfilment"


def _order_id(ctx: SagaContext) -> UUID:
    return UUID(ctx.correlation_id)


def fail_order(ctx: SagaContext):
    failure = ctx.get("failure") or {}
    order_services.order_fail(
        order_id=_order_id(ctx),
        reason=failure.get("message") or "Order could not be fulfilled.",
        code=failure.get("code") or "fulfilment_failed",
    )


def reserve_inventory(ctx: SagaContext):
    reservation = inventory_services.stock_reserve(
        order_id=_order_id(ctx),
        lines=[{"sku": line["sku"], "quantity": line["quantity"]} for line in ctx.get("lines")],
    )
    order_services.order_mark_reserved(order_id=_order_id(ctx), reservation_id=reservation.id)
    return {"reservation_id": str(reservation.id)}


def release_reservation(ctx: SagaContext):
    if inventory_selectors.reservation_get_for_order(order_id=_order_id(ctx)) is None:
        return {"released": False}  # never reserved (e.g. insufficient stock)
    failure = ctx.get("failure") or {}
    inventory_services.reservation_release(
        order_id=_order_id(ctx), reason=f"order fulfilment failed: {failure.get('code')}",
        order_ending=True)
    return {"released": True}


def authorize_payment(ctx: SagaContext):
    payment = payment_services.payment_authorize(
        order_id=_order_id(ctx), amount=Decimal(ctx.get("total")),
        currency=ctx.get("currency"), payment_method=ctx.get("payment_method") or "",
        idempotency_key=ctx.idempotency_key("authorize"),
    )
    order_services.order_mark_payment_authorized(
        order_id=_order_id(ctx), payment_id=payment.id, amount=payment.amount_authorized)
    return {"payment_id": str(payment.id)}


def void_payment(ctx: SagaContext):
    payment = _payment(ctx)
    if payment is None or payment.status != PaymentStatus.AUTHORIZED:
        return {"voided": False}  # nothing authorized, or the capture's refund handled it
    payment_services.payment_void(payment_id=payment.id,
                                  idempotency_key=ctx.idempotency_key("void"))
    return {"voided": True}


def confirm_reservation(ctx: SagaContext):
    inventory_services.reservation_confirm(order_id=_order_id(ctx))


def capture_payment(ctx: SagaContext):
    payment = payment_services.payment_capture(
        payment_id=UUID(ctx.get("payment_id")), idempotency_key=ctx.idempotency_key("capture"))
    order_services.order_mark_payment_captured(
        order_id=_order_id(ctx), payment_id=payment.id, amount=payment.amount_captured)


def refund_payment(ctx: SagaContext):
    payment = _payment(ctx)
    if payment is None or payment.status not in (PaymentStatus.CAPTURED,
                                                 PaymentStatus.PARTIALLY_REFUNDED):
        return {"refunded": "0.00"}
    amount = payment.amount_captured - payment.amount_refunded
    payment_services.payment_refund(payment_id=payment.id, amount=amount,
                                    idempotency_key=ctx.idempotency_key("refund"))
    order_services.order_record_refund(order_id=_order_id(ctx), payment_id=payment.id,
                                       amount=amount)
    return {"refunded": str(amount)}


def confirm_order(ctx: SagaContext):
    order_services.order_confirm(order_id=_order_id(ctx))


def _payment(ctx: SagaContext) -> Payment | None:
    if ctx.get("payment_id"):
        return Payment.objects.select_for_update().filter(pk=ctx.get("payment_id")).first()
    # The authorization may have been recorded by an attempt whose outcome we never saw.
    return (Payment.objects.select_for_update()
            .filter(operations__idempotency_key=ctx.idempotency_key("authorize")).first())


def unless_cancellation_pending(action):
    """A cancellation requested meanwhile takes the order over: fulfilment stops going
    forward (ends here) and the cancellation saga, which waits for it, voids/refunds and
    releases what was done so far."""

    def run(ctx: SagaContext):
        if order_selectors.order_get(order_id=_order_id(ctx)).cancellation_pending:
            return END_SAGA
        return action(ctx)

    run.__name__ = action.__name__
    return run


DEFINITION = register(SagaDefinition(saga_type=SAGA_TYPE, steps=(
    Step("start", None, fail_order),
    Step("reserve_inventory", unless_cancellation_pending(reserve_inventory),
         release_reservation),
    Step("authorize_payment", unless_cancellation_pending(authorize_payment), void_payment),
    Step("confirm_reservation", unless_cancellation_pending(confirm_reservation), None),
    Step("capture_payment", unless_cancellation_pending(capture_payment), refund_payment),
    Step("confirm_order", confirm_order, None),
)))


def initial_data(event) -> dict:
    data = event.data
    return {
        "order_id": str(event.aggregate_id),
        "lines": [{"sku": ln["sku"], "quantity": ln["quantity"]} for ln in data["lines"]],
        "total": str(data["total"]),
        "currency": data.get("currency", "USD"),
        "payment_method": data.get("payment_method"),
    }
