"""Return (RMA) commands on the order (re-exported by orders.services): a customer asks to
send delivered units back within settings.RETURN_WINDOW_DAYS; staff approve (the shipping
app buys the return label first) or reject; receiving the parcel restocks or writes off
each line and asks for the refund of those lines' share through `order_request_refund`
(the refund saga pays it out). Every command is idempotent per return id.

Money rule of a return: the goods' value (unit price × units received) less its share of
the order discount plus its share of tax, plus shipping per settings.RETURN_REFUND_SHIPPING
(never | full_return | proportional), never more than is still refundable."""

import uuid
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from commerce.core.errors import Conflict, ErrorCode, NotFound, ValidationFailed
from inventory import services as inventory_services
from orders import events as ev
from orders.aggregate import Order, money
from orders.fulfilment_state import APPROVED, RECEIVED, REJECTED, REQUESTED
from orders.models import OrderView
from orders.refunds import order_request_refund
from orders.selectors import order_events
from orders.services import _execute, _uuid
from orders.shipments import clean_quantities
from orders.validation import REASON_MAX_LENGTH, clean_text

_REFUND_NAMESPACE = uuid.UUID("b6c1f1de-3a57-4c0e-9f3d-2f7d8a1e5c42")
RESTOCK, WRITE_OFF = "restock", "write_off"
ZERO = Decimal("0.00")


class ReturnWindowClosed(Conflict):
    code = ErrorCode.RETURN_WINDOW_CLOSED
    default_message = "The return window of this order has closed."


class InvalidReturnState(Conflict):
    code = ErrorCode.INVALID_RETURN_STATE
    default_message = "The return cannot do that in its current state."


def refund_id_for(return_id) -> str:
    """The refund a received return asks for: one per return, so a repeat asks nothing."""
    return str(uuid.uuid5(_REFUND_NAMESPACE, str(return_id)))


def _return(order: Order, return_id: str) -> dict:
    found = order.returns.get(return_id)
    if found is None:
        raise NotFound("The order has no such return.", details={"return_id": return_id})
    return found


def _require_status(found: dict, return_id: str, *allowed: str) -> None:
    if found["status"] not in allowed:
        raise InvalidReturnState(
            f"The return is {found['status']}.",
            details={"return_id": return_id, "status": found["status"]})


def return_window_closes(*, order_id):
    """When the order's return window closes (None: not delivered)."""
    delivered = [e.created_at for e in order_events(order_id=order_id)
                 if e.event_type == ev.ORDER_DELIVERED]
    return delivered[-1] + timedelta(days=settings.RETURN_WINDOW_DAYS) if delivered else None


def order_return_request(*, order_id, return_id, lines: list[dict], reason: str) -> OrderView:
    """The customer asks to return `lines` [{sku, quantity}] (ReturnRequested): within the
    window after delivery (409 return_window_closed), units not already claimed by another
    return (400)."""
    return_id = _uuid(return_id, "return_id")
    reason = clean_text(reason, "reason", max_length=REASON_MAX_LENGTH, required=True)
    closes = return_window_closes(order_id=order_id)

    def decide(order: Order) -> None:
        if return_id in order.returns:
            return
        order.require("request_return")
        if closes is not None and timezone.now() > closes:
            raise ReturnWindowClosed(details={"closed_at": closes.isoformat(),
                                              "window_days": settings.RETURN_WINDOW_DAYS})
        left = {sku: n for sku, n in order.returnable().items() if n}
        counts = clean_quantities(lines, left, what="to return")
        order.record(ev.RETURN_REQUESTED, {"return_id": return_id, "reason": reason,
                                           "lines": order.with_line_numbers(counts)})

    return _execute(order_id, decide)


def order_return_approve(*, order_id, return_id, carrier: str, service_level: str,
                         tracking_number: str, label_url: str) -> OrderView:
    """Staff accept a requested return whose label the shipping app bought (ReturnApproved:
    return_id, lines, carrier, tracking number and label_url, what the customer is sent)."""
    return_id = _uuid(return_id, "return_id")

    def decide(order: Order) -> None:
        found = _return(order, return_id)
        if found["status"] in (APPROVED, RECEIVED):
            return
        _require_status(found, return_id, REQUESTED)
        order.require("approve_return")
        order.record(ev.RETURN_APPROVED, {
            "return_id": return_id, "lines": order.with_line_numbers(found["lines"]),
            "carrier": carrier, "service_level": service_level,
            "tracking_number": tracking_number, "label_url": label_url})

    return _execute(order_id, decide)


def order_return_reject(*, order_id, return_id, reason: str) -> OrderView:
    """Staff refuse a requested return (ReturnRejected); its units may be asked again."""
    return_id = _uuid(return_id, "return_id")
    reason = clean_text(reason, "reason", max_length=REASON_MAX_LENGTH, required=True)

    def decide(order: Order) -> None:
        found = _return(order, return_id)
        if found["status"] == REJECTED:
            return
        _require_status(found, return_id, REQUESTED)
        order.require("reject_return")
        order.record(ev.RETURN_REJECTED, {"return_id": return_id, "reason": reason})

    return _execute(order_id, decide)


def order_return_receive(*, order_id, return_id, lines: list[dict] | None = None
                         ) -> OrderView:
    """The parcel came back (ReturnReceived, then OrderPartiallyReturned or OrderReturned):
    `lines` [{sku, quantity, disposition: restock | write_off}] (None: every unit of the
    return, restocked). Restocked units go back into stock in the same transaction, and
    the refund of the lines' share is requested (RefundRequested) in it too."""
    return_id = _uuid(return_id, "return_id")
    refund_id = refund_id_for(return_id)
    asked = ZERO

    def decide(order: Order) -> None:
        nonlocal asked
        found = _return(order, return_id)
        if found["status"] == RECEIVED:
            asked = found["refund_amount"]  # asked already; asking again is a no-op
            return
        _require_status(found, return_id, APPROVED)
        order.require("receive_return")
        received = _clean_received(lines, found["lines"])
        counts = {sku: n for sku, n, _ in received}
        restock = [{"sku": sku, "quantity": n} for sku, n, how in received if how == RESTOCK]
        if restock:
            inventory_services.reservation_restock_lines(
                order_id=order.id, lines=restock, reference=f"return:{return_id}",
                reason="return received")
        goods, shipping = return_refund(order, counts)
        amount = asked = min(goods + shipping, max(order.refundable, ZERO))
        order.record(ev.RETURN_RECEIVED, {
            "return_id": return_id,
            "lines": [{"line_no": order.line_no(sku), "sku": sku, "quantity": n,
                       "disposition": how} for sku, n, how in received],
            "goods_refund": str(goods), "shipping_refund": str(shipping),
            "refund_amount": str(amount), "refund_id": refund_id if amount else None})
        everything = order.returned() == order.ordered()
        if everything:
            order.require("return_fully")
            order.record(ev.ORDER_RETURNED, {"return_id": return_id})
        elif order.status != "partially_returned":
            order.require("return_partially")
            order.record(ev.ORDER_PARTIALLY_RETURNED, {"return_id": return_id})

    with transaction.atomic():
        view = _execute(order_id, decide)
        if asked:
            view = order_request_refund(order_id=order_id, amount=asked, refund_id=refund_id,
                                        reason=f"return {return_id} received")
    return view


def return_refund(order: Order, counts: dict[str, int]) -> tuple[Decimal, Decimal]:
    """(goods, shipping) refunded for `counts` units coming back, by the money rule above.
    `order` already includes earlier returns."""
    prices = {line["sku"]: Decimal(line["unit_price"]) for line in order.lines}
    value = sum((prices[sku] * n for sku, n in counts.items()), ZERO)
    share = value / order.subtotal if order.subtotal else ZERO
    goods = money(value - order.discount * share + order.tax * share)
    returned = order.returned()
    complete = all(returned.get(sku, 0) + counts.get(sku, 0) >= n
                   for sku, n in order.ordered().items())
    shipping_left = order.shipping - order.shipping_refunded
    policy = settings.RETURN_REFUND_SHIPPING
    if policy == "proportional":
        shipping = shipping_left if complete else min(money(order.shipping * share),
                                                      shipping_left)
    elif policy == "full_return" and complete:
        shipping = shipping_left
    else:
        shipping = ZERO
    return goods, shipping


def _clean_received(lines, requested: dict[str, int]) -> list[tuple[str, int, str]]:
    if lines is None:
        return [(sku, n, RESTOCK) for sku, n in requested.items()]
    counts = clean_quantities(
        [{"sku": ln.get("sku"), "quantity": ln.get("quantity")} if isinstance(ln, dict) else ln
         for ln in lines] if isinstance(lines, list) else lines, requested, what="in the return")
    how: dict[str, str] = {}
    bad = []
    for line in lines:
        disposition = line.get("disposition", RESTOCK)
        if disposition not in (RESTOCK, WRITE_OFF):
            bad.append({"disposition": [f"One of {RESTOCK}, {WRITE_OFF}."]})
        elif how.setdefault(line["sku"], disposition) != disposition:
            bad.append({"disposition": ["One disposition per sku."]})
        else:
            bad.append({})
    if any(bad):
        raise ValidationFailed(details={"lines": bad})
    return [(sku, n, how[sku]) for sku, n in counts.items()]
