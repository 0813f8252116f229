"""The fulfilment saga's forward steps for many orders at once (`Step.batch`, run by
sagas/batch.py): the same decisions as the one-order steps in fulfilment.py, made with the
domains' batch commands (inventory/batch.py, orders/batch.py, payments/batch.py).

Each returns {saga_id: value}. Per order, only outcomes that leave nothing half-done are
reported as that order's own: a refusal before anything was written for it (short stock, a
capture the payment's state refuses), a decline that is recorded on purpose (`Refused`), a
transient failure of its processor call (retried), or END_SAGA (a cancellation took the
order over). Anything else unexpected raises, and the whole batch runs one by one instead."""

from decimal import Decimal
from uuid import UUID

from inventory.batch import reservation_confirm_many, stock_reserve_many
from orders import services as order_services
from orders.batch import orders_decide_many
from orders.events import ORDER_CONFIRMED
from orders.selectors import orders_with_cancellation_pending
from payments.batch import (
    AuthorizationRequest,
    payment_authorize_begin_many,
    payment_capture_begin_many,
    payment_operations_finish_many,
)
from payments.models import OperationStatus
from payments.services import REFUSALS, payment_operation_call
from sagas.definitions import END_SAGA, Refused, SagaContext


class BatchFallback(Exception):  # noqa: N818 - a signal: run this step one saga at a time
    pass


def reserve_inventory_many(ctxs: list[SagaContext]) -> dict:
    results, live = _unless_cancellation_pending(ctxs)
    reserved = stock_reserve_many(orders={
        _order_id(c): [{"sku": ln["sku"], "quantity": ln["quantity"]} for ln in c.get("lines")]
        for c in live})
    decisions = {}
    for ctx in live:
        outcome = reserved[_order_id(ctx)]
        if isinstance(outcome, Exception):
            results[ctx.saga_id] = outcome  # short stock or unknown sku: nothing reserved
        else:
            decisions[_order_id(ctx)] = order_services.mark_reserved(outcome)
            results[ctx.saga_id] = {"reservation_id": str(outcome)}
    _decide(decisions)
    return results


def authorize_payment_many(ctxs: list[SagaContext]):
    results, live = _unless_cancellation_pending(ctxs)
    operations = payment_authorize_begin_many(requests=[AuthorizationRequest(
        order_id=_order_id(c), amount=Decimal(c.get("total")), currency=c.get("currency"),
        payment_method=c.get("payment_method") or "",
        idempotency_key=c.idempotency_key("authorize")) for c in live])
    by_saga = {c.saga_id: operations[c.idempotency_key("authorize")] for c in live}
    if any(op.status != OperationStatus.PENDING for op in by_saga.values()):
        raise BatchFallback("an authorization was already settled")
    outcomes = yield {sid: payment_operation_call(op) for sid, op in by_saga.items()}
    answers = _answers(by_saga, outcomes, results, keep_refusals=True)
    payments = payment_operations_finish_many(answers=answers) if answers else {}
    decisions = {}
    for ctx in live:
        op = by_saga[ctx.saga_id]
        if op.id not in answers:
            continue  # transient: its result is the error, retried
        if isinstance(answers[op.id], Exception):
            results[ctx.saga_id] = Refused(answers[op.id])  # the decline stays on record
            continue
        payment = payments[op.id]
        decisions[_order_id(ctx)] = order_services.mark_payment_authorized(
            payment.id, payment.amount_authorized)
        results[ctx.saga_id] = {"payment_id": str(payment.id)}
    _decide(decisions)
    return results


def confirm_reservation_many(ctxs: list[SagaContext]) -> dict:
    results, live = _unless_cancellation_pending(ctxs)
    confirmed = reservation_confirm_many(order_ids=[_order_id(c) for c in live])
    if any(error is not None for error in confirmed.values()):
        raise BatchFallback("a reservation could not be confirmed")
    results.update((c.saga_id, None) for c in live)
    return results


def capture_payment_many(ctxs: list[SagaContext]):
    results, live = _unless_cancellation_pending(ctxs)
    begun = payment_capture_begin_many(captures={
        UUID(c.get("payment_id")): c.idempotency_key("capture") for c in live})
    by_saga = {}
    for ctx in live:
        operation = begun[ctx.idempotency_key("capture")]
        if isinstance(operation, Exception):
            results[ctx.saga_id] = operation  # the payment's state refuses: nothing written
        elif operation.status != OperationStatus.PENDING:
            raise BatchFallback("a capture was already settled")
        else:
            by_saga[ctx.saga_id] = operation
    outcomes = yield {sid: payment_operation_call(op) for sid, op in by_saga.items()}
    # A refused capture is not recorded (as one saga at a time: its step rolls back).
    answers = _answers(by_saga, outcomes, results, keep_refusals=False)
    payments = payment_operations_finish_many(answers=answers) if answers else {}
    decisions = {}
    for ctx in live:
        op = by_saga.get(ctx.saga_id)
        if op is None or op.id not in answers:
            continue
        payment = payments[op.id]
        decisions[_order_id(ctx)] = order_services.mark_payment_captured(
            payment.id, payment.amount_captured)
        results[ctx.saga_id] = None
    _decide(decisions)
    return results


def confirm_order_many(ctxs: list[SagaContext]) -> dict:
    _decide({_order_id(c): order_services.record_once("confirm", ORDER_CONFIRMED)
             for c in ctxs})
    return {c.saga_id: None for c in ctxs}


# --- helpers -------------------------------------------------------------------------------
def _order_id(ctx: SagaContext) -> UUID:
    return UUID(ctx.correlation_id)


def _unless_cancellation_pending(ctxs: list[SagaContext]) -> tuple[dict, list[SagaContext]]:
    """As fulfilment.unless_cancellation_pending: an order whose cancellation is pending
    ends its fulfilment here (END_SAGA); the others go on."""
    pending = orders_with_cancellation_pending(order_ids=[_order_id(c) for c in ctxs])
    results = {c.saga_id: END_SAGA for c in ctxs if _order_id(c) in pending}
    return results, [c for c in ctxs if c.saga_id not in results]


def _answers(by_saga: dict, outcomes: dict, results: dict, *, keep_refusals: bool) -> dict:
    """Operation id → what to record: the processor's result, or its refusal when kept.
    Transient failures (and refusals not kept) become those sagas' results."""
    answers = {}
    for saga_id, operation in by_saga.items():
        outcome = outcomes[saga_id]
        if outcome.error is None:
            answers[operation.id] = outcome.value
        elif keep_refusals and isinstance(outcome.error, REFUSALS):
            answers[operation.id] = outcome.error
        else:
            results[saga_id] = outcome.error
    return answers


def _decide(decisions: dict) -> None:
    refused = {oid: error for oid, error in orders_decide_many(decisions=decisions).items()
               if error is not None}
    if refused:  # unexpected after the step's other effects: one saga at a time instead
        raise BatchFallback(f"order decisions refused: {refused}")
