"""Refund commands on the order (re-exported by orders.services).

Money goes back in two ways, both recorded here as RefundIssued:
- a saga's own refund (cancellation, fulfilment compensation): `order_record_refund`
  without a refund_id, deduplicated per (payment_id, amount) as it refunds once;
- a requested refund (staff goodwill, a received return): `order_request_refund` records
  RefundRequested with a refund_id, holding that amount against the capture so concurrent
  requests can never ask back more than was captured; the refund saga (sagas/flows/refund.py)
  calls the processor and then records RefundIssued or RefundFailed with that refund_id."""

from decimal import Decimal, InvalidOperation

from commerce.core.errors import Conflict, ErrorCode, ValidationFailed
from orders import events as ev
from orders import lifecycle
from orders.aggregate import Order, money
from orders.models import OrderView
from orders.services import _execute, _uuid
from orders.validation import REASON_MAX_LENGTH, clean_text


class RefundExceedsRefundable(Conflict):
    code = ErrorCode.REFUND_EXCEEDS_REFUNDABLE
    default_message = "The refund is more than what is left to refund on this order."


def _positive_amount(amount) -> Decimal:
    try:
        value = money(amount)
    except (InvalidOperation, ValueError, TypeError):
        raise ValidationFailed(details={"amount": ["A decimal amount is required."]}) from None
    if not value.is_finite() or value <= 0:
        raise ValidationFailed(details={"amount": ["Must be greater than zero."]})
    return value


def order_request_refund(*, order_id, amount, reason: str, refund_id) -> OrderView:
    """Ask for `amount` back (RefundRequested). Idempotent per refund_id: the same request
    again is a no-op; the same refund_id with another amount is refused (409). Refused
    beyond captured − refunded − pending (409 `refund_exceeds_refundable`) and where the
    lifecycle allows no refund (nothing captured, a cancellation pending: 409)."""
    amount = _positive_amount(amount)
    reason = clean_text(reason, "reason", max_length=REASON_MAX_LENGTH, required=True)
    refund_id = _uuid(refund_id, "refund_id")

    def decide(order: Order) -> None:
        if refund_id in order.refund_requests or refund_id in order.refund_ids:
            requested = order.refund_requests.get(refund_id)
            if requested is not None and requested != amount:
                raise Conflict("This refund id was used for another amount.",
                               details={"refund_id": refund_id, "amount": str(requested)})
            return
        order.require("request_refund")
        if amount > order.refundable:
            raise RefundExceedsRefundable(details={
                "amount": str(amount), "refundable": str(order.refundable),
                "captured": str(order.captured_amount),
                "refunded": str(order.refunded_total)})
        order.record(ev.REFUND_REQUESTED, {"refund_id": refund_id, "amount": str(amount),
                                           "reason": reason})

    return _execute(order_id, decide)


def order_record_refund(*, order_id, payment_id, amount, refund_id=None,
                        reason: str = "") -> OrderView:
    """Record RefundIssued: with a refund_id, the settlement of that RefundRequested
    (deduplicated by it); without, a saga's own refund (deduplicated per (payment_id,
    amount)). When the refunds of a delivered or completed order without a pending
    cancellation reach its total, also record OrderRefunded (→ refunded)."""
    amount = _positive_amount(amount)
    reason = clean_text(reason, "reason", max_length=REASON_MAX_LENGTH)
    if refund_id is not None:
        refund_id = _uuid(refund_id, "refund_id")

    def decide(order: Order) -> None:
        if refund_id is not None and refund_id in order.refund_ids:
            return
        if refund_id is None and (str(payment_id), str(amount)) in order.refunds:
            return
        order.require("record_refund")
        if order.refunded_total + amount > order.total:
            raise ValidationFailed(
                "Refunds cannot exceed the order total.",
                details={"amount": [f"At most {order.total - order.refunded_total} more."]})
        data = {"payment_id": str(payment_id), "amount": str(amount)}
        if refund_id is not None:
            data.update(refund_id=refund_id, reason=reason)
        order.record(ev.REFUND_ISSUED, data)
        if order.refunded_total >= order.total and lifecycle.can(order.machine, "refund"):
            order.record(ev.ORDER_REFUNDED, {})

    return _execute(order_id, decide)


def order_record_refund_failure(*, order_id, refund_id, reason: str, code: str) -> OrderView:
    """The processor refused a requested refund (RefundFailed): nothing moved, and the
    amount it held is refundable again. A repeat is a no-op."""
    refund_id = _uuid(refund_id, "refund_id")
    reason = clean_text(reason, "reason", max_length=REASON_MAX_LENGTH)
    code = clean_text(code, "code", max_length=50, required=True)

    def decide(order: Order) -> None:
        if refund_id in order.refund_ids:
            return
        if refund_id not in order.refund_requests:
            raise Conflict("No such refund is pending on this order.",
                           details={"refund_id": refund_id})
        order.require("record_refund_failure")
        order.record(ev.REFUND_FAILED, {"refund_id": refund_id, "reason": reason,
                                        "code": code})

    return _execute(order_id, decide)
