"""What a message says about an order, as it was when the event happened: folded from the
order's own events up to that event's version (never the read model, which may have moved
on by the time the consumer gets to the event)."""

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from orders import events as order_events
from orders.selectors import order_events as load_order_events


@dataclass
class OrderSnapshot:
    order_id: str
    version: int
    customer_id: str | None = None
    email: str = ""
    language: str = ""
    currency: str = ""
    lines: list[dict[str, Any]] = field(default_factory=list)
    subtotal: Decimal = Decimal("0.00")
    shipping: Decimal = Decimal("0.00")
    discount: Decimal = Decimal("0.00")
    tax: Decimal = Decimal("0.00")
    total: Decimal = Decimal("0.00")
    shipping_address: dict[str, Any] = field(default_factory=dict)
    placed_at: Any = None
    carrier: str = ""
    tracking_number: str = ""
    tracking_url: str = ""
    refunded: Decimal = Decimal("0.00")
    cancellation_open: bool = False
    cancellation_reason: str = ""
    failure_code: str = ""
    failure_reason: str = ""

    def context(self) -> dict[str, Any]:
        """Template context: money stays Decimal (templates format it per language)."""
        return {
            "order_id": self.order_id, "order_ref": self.order_id[:8].upper(),
            "currency": self.currency, "lines": self.lines, "subtotal": self.subtotal,
            "shipping": self.shipping, "discount": self.discount, "tax": self.tax,
            "total": self.total, "shipping_address": self.shipping_address,
            "placed_at": self.placed_at, "carrier": self.carrier,
            "tracking_number": self.tracking_number, "tracking_url": self.tracking_url,
            "refunded": self.refunded, "cancellation_reason": self.cancellation_reason,
            "failure_code": self.failure_code, "failure_reason": self.failure_reason,
        }


def order_snapshot(order_id, *, version: int) -> OrderSnapshot:
    snap = OrderSnapshot(order_id=str(order_id), version=version)
    for event in load_order_events(order_id=order_id):
        if event.version > version:
            break
        _apply(snap, event.event_type, event.data, event.created_at)
    return snap


def _apply(snap: OrderSnapshot, event_type: str, d: dict, created_at) -> None:
    if event_type == order_events.ORDER_PLACED:
        snap.customer_id = d.get("customer_id")
        snap.email = d.get("email") or ""  # guest orders carry the address themselves
        snap.language = d.get("language") or ""  # and may carry the shopper's language
        snap.currency = d["currency"]
        snap.lines = [{**line, "unit_price": Decimal(line["unit_price"]),
                       "line_total": Decimal(line["line_total"])} for line in d["lines"]]
        for name in ("subtotal", "shipping", "discount", "tax", "total"):
            setattr(snap, name, Decimal(d[name]))
        snap.shipping_address = d.get("shipping_address") or {}
        snap.placed_at = created_at
    elif event_type == order_events.SHIPMENT_CREATED:
        snap.carrier = d.get("carrier", "")
        snap.tracking_number = d.get("tracking_number", "")
        snap.tracking_url = d.get("tracking_url", "")
    elif event_type == order_events.REFUND_ISSUED:
        snap.refunded += Decimal(d["amount"])
    elif event_type == order_events.CANCELLATION_REQUESTED:
        snap.cancellation_open, snap.cancellation_reason = True, d.get("reason", "")
    elif event_type in (order_events.CANCELLATION_REJECTED, order_events.ORDER_CANCELLED):
        snap.cancellation_open = False
        snap.cancellation_reason = d.get("reason", snap.cancellation_reason)
    elif event_type == order_events.ORDER_FAILED:
        snap.failure_code, snap.failure_reason = d.get("code", ""), d.get("reason", "")
