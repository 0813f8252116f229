"""Order fulfilment: reserve inventory → authorize payment → confirm reservation → capture
payment → confirm order, each outcome recorded on the order through its saga-facing
commands (docs/CONTRACTS.md).

Compensations, newest first: refund a captured payment, void an authorization, release the
reservation, and finally fail the order with the reason of the step that was refused
(`insufficient_stock`, `payment_declined`, …). The first step is Eventuate's trick: it does
nothing forward, and its compensation fails the order, so every refusal ends there."""

import inspect
from decimal import Decimal
from uuid import UUID

from inventory import selectors as inventory_selectors
from inventory import services as inventory_services
from orders import selectors as order_selectors
from orders import services as order_services
from payments import services as payment_services
from payments.models import PaymentOperation, PaymentStatus
from sagas.definitions import END_SAGA, Refused, SagaContext, SagaDefinition, Step, register
from sagas.flows import fulfilment_batch as many

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
    operation = payment_services.payment_authorize_begin(
        order_id=_order_id(ctx), amount=Decimal(ctx.get("total")),
        currency=ctx.get("currency"), payment_method=ctx.get("payment_method") or "",
        idempotency_key=ctx.idempotency_key("authorize"),
    )
    payment, refusal = yield from payment_services.payment_operation_execute(operation)
    if refusal is not None:
        return Refused(refusal)  # keep the declined attempt on record, then compensate
    order_services.order_mark_payment_authorized(
        order_id=_order_id(ctx), payment_id=payment.id, amount=payment.amount_authorized)
    return {"payment_id": str(payment.id)}


def void_payment(ctx: SagaContext):
    operation = _authorization(ctx)
    if operation is None:
        return {"voided": False}  # never asked for
    # An authorization whose answer we never recorded (timeouts until exhaustion): ask
    # the processor what it did with the key before deciding.
    payment = yield from payment_services.payment_authorization_resolve(operation)
    if payment.status != PaymentStatus.AUTHORIZED:
        return {"voided": False}  # nothing authorized, or the capture's refund handled it
    void = payment_services.payment_void_begin(payment_id=payment.id,
                                               idempotency_key=ctx.idempotency_key("void"))
    _, refusal = yield from payment_services.payment_operation_execute(void)
    if refusal is not None:
        raise refusal
    return {"voided": True}


def confirm_reservation(ctx: SagaContext):
    inventory_services.reservation_confirm(order_id=_order_id(ctx))


def capture_payment(ctx: SagaContext):
    operation = payment_services.payment_capture_begin(
        payment_id=UUID(ctx.get("payment_id")), idempotency_key=ctx.idempotency_key("capture"))
    payment, refusal = yield from payment_services.payment_operation_execute(operation)
    if refusal is not None:
        raise refusal
    order_services.order_mark_payment_captured(
        order_id=_order_id(ctx), payment_id=payment.id, amount=payment.amount_captured)


def refund_payment(ctx: SagaContext):
    capture = PaymentOperation.objects.filter(
        idempotency_key=ctx.idempotency_key("capture")).select_related("payment").first()
    if capture is None:
        return {"refunded": "0.00"}  # never captured
    # A capture whose answer we never recorded is settled first (same key: the processor
    # answers with what it did), so we refund exactly what was taken.
    payment, _ = yield from payment_services.payment_operation_execute(capture)
    if payment.status not in (PaymentStatus.CAPTURED, PaymentStatus.PARTIALLY_REFUNDED):
        return {"refunded": "0.00"}
    amount = payment.amount_captured - payment.amount_refunded
    refund = payment_services.payment_refund_begin(
        payment_id=payment.id, amount=amount, idempotency_key=ctx.idempotency_key("refund"))
    payment, refusal = yield from payment_services.payment_operation_execute(refund)
    if refusal is not None:
        raise refusal
    order_services.order_record_refund(order_id=_order_id(ctx), payment_id=payment.id,
                                       amount=refund.amount)
    return {"refunded": str(refund.amount)}


def confirm_order(ctx: SagaContext):
    order_services.order_confirm(order_id=_order_id(ctx))


def _authorization(ctx: SagaContext) -> PaymentOperation | None:
    # Found by its key, not ctx "payment_id": the authorization may have been recorded by
    # an attempt whose outcome the saga never saw.
    return (PaymentOperation.objects.select_related("payment")
            .filter(idempotency_key=ctx.idempotency_key("authorize")).first())


def unless_cancellation_pending(action):
    """A cancellation requested meanwhile takes the order over: fulfilment stops going
    forward (ends here) and the cancellation saga, which waits for it, voids/refunds and
    releases what was done so far."""

    def run(ctx: SagaContext):
        if order_selectors.order_get(order_id=_order_id(ctx)).cancellation_pending:
            return END_SAGA
        return (yield from _steps(action(ctx)))

    run.__name__ = action.__name__
    return run


def _steps(value):
    """Delegate to a step that is a generator, or pass a plain step's value through."""
    if inspect.isgenerator(value):
        return (yield from value)
    return value


DEFINITION = register(SagaDefinition(saga_type=SAGA_TYPE, steps=(
    Step("start", None, fail_order),
    Step("reserve_inventory", unless_cancellation_pending(reserve_inventory),
         release_reservation, batch=many.reserve_inventory_many),
    Step("authorize_payment", unless_cancellation_pending(authorize_payment), void_payment,
         batch=many.authorize_payment_many),
    Step("confirm_reservation", unless_cancellation_pending(confirm_reservation), None,
         batch=many.confirm_reservation_many),
    Step("capture_payment", unless_cancellation_pending(capture_payment), refund_payment,
         batch=many.capture_payment_many),
    Step("confirm_order", confirm_order, None, batch=many.confirm_order_many),
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
