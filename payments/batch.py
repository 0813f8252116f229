"""Payment intents and answers for many payments at once, for the fulfilment saga's batch
steps: the same records as payments/services.py (an intent per operation before the call,
its answer after, each keyed by its idempotency key), written with one statement per kind
of row instead of several per payment. The calls themselves are made one per operation, in
parallel, between these transactions (payments.services.payment_operation_call)."""

from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from commerce.core.bulk import insert_rows, rows_by_pk, update_rows
from commerce.core.errors import DomainError
from payments.gateways import get_gateway
from payments.gateways.base import GatewayResult
from payments.models import (
    OperationStatus,
    Payment,
    PaymentOperation,
    PaymentOperationKind,
    PaymentStatus,
)
from payments.services import REFUSALS, InvalidPaymentState, _amount, _apply, _refusal_fields

_PAYMENT_FIELDS = [f.name for f in Payment._meta.concrete_fields]
_OPERATION_FIELDS = [f.name for f in PaymentOperation._meta.concrete_fields if not f.primary_key]


@dataclass(frozen=True)
class AuthorizationRequest:
    order_id: UUID
    amount: Decimal
    currency: str
    payment_method: str
    idempotency_key: str


def payment_authorize_begin_many(*, requests: list[AuthorizationRequest]
                                 ) -> dict[str, PaymentOperation]:
    """Record the authorizations about to be asked for (a `pending` payment and operation
    each); a key already recorded returns its operation. Keyed by idempotency key."""
    keys = [r.idempotency_key for r in requests]
    found = _operations(keys)
    new = [r for r in requests if r.idempotency_key not in found]
    if new:
        gateway = get_gateway().name
        with transaction.atomic():
            payments = [Payment(order_id=r.order_id, status=PaymentStatus.PENDING,
                                currency=r.currency, payment_method=r.payment_method or "",
                                amount=_amount(r.amount), gateway=gateway) for r in new]
            now = timezone.now()
            for payment in payments:
                payment.created_at = payment.updated_at = now
            insert_rows(Payment, payments, _PAYMENT_FIELDS)
            operations = [PaymentOperation(payment=p, kind=PaymentOperationKind.AUTHORIZE,
                                           amount=p.amount, idempotency_key=r.idempotency_key,
                                           created_at=now)
                          for p, r in zip(payments, new, strict=True)]
            insert_rows(PaymentOperation, operations, _OPERATION_FIELDS, returning=("id",))
        found.update((op.idempotency_key, op) for op in operations)
    return found


def payment_capture_begin_many(*, captures: dict[UUID, str]) -> dict[str, PaymentOperation |
                                                                         DomainError]:
    """Record the captures (payment id → idempotency key) of the whole authorized amount,
    under the payments' locks (in id order); a key already recorded returns its operation.
    Keyed by idempotency key: the operation, or why that payment cannot be captured."""
    outcomes: dict[str, PaymentOperation | DomainError] = {}
    with transaction.atomic():
        payments = {p.id: p for p in rows_by_pk(Payment, list(captures), lock=True)}
        found = _operations(list(captures.values()))
        busy = set(PaymentOperation.objects.filter(
            payment_id__in=list(payments), status=OperationStatus.PENDING,
            kind__in=(PaymentOperationKind.CAPTURE, PaymentOperationKind.VOID))
            .values_list("payment_id", flat=True))
        new = []
        for payment_id, key in captures.items():
            payment = payments.get(payment_id)
            if key in found:
                outcomes[key] = found[key]
            elif payment is None or payment.status != PaymentStatus.AUTHORIZED \
                    or payment.id in busy:
                outcomes[key] = InvalidPaymentState(
                    details={"status": payment.status if payment else None})
            else:
                operation = PaymentOperation(payment=payment, kind=PaymentOperationKind.CAPTURE,
                                             amount=payment.amount_authorized,
                                             idempotency_key=key)
                new.append(operation)
                outcomes[key] = operation
        now = timezone.now()
        for operation in new:
            operation.created_at = now
        insert_rows(PaymentOperation, new, _OPERATION_FIELDS, returning=("id",))
    return outcomes


def payment_operations_finish_many(*, answers: dict[int, GatewayResult | DomainError]
                                   ) -> dict[int, Payment]:
    """Record the processor's answers (operation id → its result or business refusal), as
    payment_operation_finish does for one, under the payments' locks (in id order).
    Operations already settled are left as they are. Keyed by operation id."""
    now = timezone.now()
    with transaction.atomic():
        operations = {op.id: op for op in rows_by_pk(PaymentOperation, list(answers))}
        payments = {p.id: p for p in rows_by_pk(
            Payment, {op.payment_id for op in operations.values()}, lock=True)}
        settled_ops, touched = [], {}
        for op_id, answer in answers.items():
            operation = operations[op_id]
            payment = payments[operation.payment_id]
            operation.payment = payment
            if operation.status != OperationStatus.PENDING:
                continue
            if isinstance(answer, REFUSALS):
                _refusal_fields(payment, operation, answer)
            else:
                _apply(payment, operation.kind, answer)
                operation.status = OperationStatus.SUCCEEDED
                operation.gateway_reference = answer.reference
                operation.amount = answer.amount
            operation.completed_at = now
            settled_ops.append(operation)
            touched[payment.id] = payment
        update_rows(PaymentOperation, settled_ops, [
            "status", "error_code", "error_message", "gateway_reference", "amount",
            "completed_at"])
        for payment in touched.values():
            payment.updated_at = now
        update_rows(Payment, list(touched.values()), [
            "status", "amount_authorized", "amount_captured", "amount_refunded",
            "gateway_reference", "failure_code", "failure_message", "updated_at"])
    return {op_id: payments[op.payment_id] for op_id, op in operations.items()}


def _operations(keys: list[str]) -> dict[str, PaymentOperation]:
    return {op.idempotency_key: op for op in PaymentOperation.objects.select_related("payment")
            .filter(idempotency_key__in=keys)}
