"""What the order knows about its shipments and returns, folded from its own events (a
mixin of the Order aggregate, orders/aggregate.py). Commands in orders/shipments.py and
orders/returns.py decide on it; the shipping app's read models show it.

Quantities are per sku (an order has one line per sku). Shipment status vocabulary, shared
with the shipping read models and the API: label_pending, label_failed, label_created,
in_transit, out_for_delivery, delivered, exception, cancelled."""

from datetime import datetime
from decimal import Decimal
from typing import Any

ZERO = Decimal("0.00")

LABEL_PENDING, LABEL_FAILED, LABEL_CREATED = "label_pending", "label_failed", "label_created"
IN_TRANSIT, OUT_FOR_DELIVERY, DELIVERED = "in_transit", "out_for_delivery", "delivered"
EXCEPTION, CANCELLED = "exception", "cancelled"
TRACKING_STATUSES = (LABEL_CREATED, IN_TRANSIT, OUT_FOR_DELIVERY, DELIVERED, EXCEPTION)
# Before the carrier has the parcel, a shipment can still be cancelled (its label voided).
CANCELLABLE = frozenset({LABEL_PENDING, LABEL_FAILED, LABEL_CREATED})

REQUESTED, APPROVED, REJECTED, RECEIVED = "requested", "approved", "rejected", "received"


def _count(lines: list[dict]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for line in lines:
        counts[line["sku"]] = counts.get(line["sku"], 0) + line["quantity"]
    return counts


def _sum(many: list[dict[str, int]]) -> dict[str, int]:
    total: dict[str, int] = {}
    for counts in many:
        for sku, n in counts.items():
            total[sku] = total.get(sku, 0) + n
    return total


class FulfilmentState:
    lines: list[dict[str, Any]]

    def _init_fulfilment(self) -> None:
        self.shipments: dict[str, dict[str, Any]] = {}
        self.returns: dict[str, dict[str, Any]] = {}
        self.shipping_refunded = ZERO  # shipping given back with received returns so far

    # --- queries ------------------------------------------------------------------------
    def ordered(self) -> dict[str, int]:
        return _count(self.lines)

    def line_no(self, sku: str) -> int:
        return next(n for n, line in enumerate(self.lines, start=1) if line["sku"] == sku)

    def shipped(self) -> dict[str, int]:
        return _sum([s["lines"] for s in self.shipments.values() if s["status"] != CANCELLED])

    def unshipped(self) -> dict[str, int]:
        shipped = self.shipped()
        return {sku: n - shipped.get(sku, 0) for sku, n in self.ordered().items()}

    def returned(self) -> dict[str, int]:
        """Units received back."""
        return _sum([r["lines"] for r in self.returns.values() if r["status"] == RECEIVED])

    def returnable(self) -> dict[str, int]:
        """Units no return claims yet (requested, approved or received)."""
        claimed = _sum([r["lines"] for r in self.returns.values() if r["status"] != REJECTED])
        return {sku: n - claimed.get(sku, 0) for sku, n in self.ordered().items()}

    def active_shipments(self) -> list[dict[str, Any]]:
        return [s for s in self.shipments.values() if s["status"] != CANCELLED]

    def all_delivered(self) -> bool:
        active = self.active_shipments()
        return bool(active) and all(s["status"] == DELIVERED for s in active)

    def with_line_numbers(self, counts: dict[str, int]) -> list[dict[str, Any]]:
        """Event line items for per-sku quantities, in order-line order."""
        return [{"line_no": self.line_no(sku), "sku": sku, "quantity": counts[sku]}
                for sku in sorted(counts, key=self.line_no) if counts[sku]]

    # --- folds: shipments -----------------------------------------------------------------
    def apply_shipment_created(self, data):
        self.shipment_id = data["shipment_id"]
        # Shipments recorded before split shipments (no lines) took the whole order.
        lines = _count(data["lines"]) if data.get("lines") is not None else {
            sku: n for sku, n in self.unshipped().items() if n}
        label = data.get("label", "none")
        self.shipments[data["shipment_id"]] = {
            "lines": lines, "carrier": data.get("carrier", ""),
            "tracking_number": data.get("tracking_number", ""),
            "status": LABEL_PENDING if label == "pending" else IN_TRANSIT,
            "label": label == "pending", "keys": set(), "last_at": None}

    def apply_shipment_label_purchased(self, data):
        shipment = self.shipments[data["shipment_id"]]
        shipment.update(tracking_number=data["tracking_number"], status=LABEL_CREATED,
                        label_url=data.get("label_url", ""))

    def apply_shipment_label_failed(self, data):
        self.shipments[data["shipment_id"]]["status"] = LABEL_FAILED

    def apply_shipment_tracking_updated(self, data):
        shipment = self.shipments[data["shipment_id"]]
        shipment["keys"].add(data["key"])
        at = datetime.fromisoformat(data["occurred_at"])
        # Carriers deliver events out of order: the newest one tells the status, and a
        # delivered parcel stays delivered.
        if shipment["status"] != DELIVERED and (shipment["last_at"] is None
                                                 or at >= shipment["last_at"]):
            shipment["status"] = data["status"]
            shipment["last_at"] = at
        if data["status"] == DELIVERED:
            shipment["status"] = DELIVERED

    def apply_shipment_cancelled(self, data):
        self.shipments[data["shipment_id"]]["status"] = CANCELLED

    def apply_order_partially_shipped(self, data):
        pass

    def apply_order_unshipped(self, data):
        pass

    # --- folds: returns -------------------------------------------------------------------
    def apply_return_requested(self, data):
        self.returns[data["return_id"]] = {"lines": _count(data["lines"]), "status": REQUESTED,
                                           "reason": data.get("reason", "")}

    def apply_return_approved(self, data):
        self.returns[data["return_id"]].update(status=APPROVED, label_url=data["label_url"])

    def apply_return_rejected(self, data):
        self.returns[data["return_id"]]["status"] = REJECTED

    def apply_return_received(self, data):
        self.returns[data["return_id"]].update(
            status=RECEIVED, received=data["lines"], refund_id=data.get("refund_id"),
            refund_amount=Decimal(data["refund_amount"]))
        self.shipping_refunded += Decimal(data.get("shipping_refund", "0.00"))

    def apply_order_partially_returned(self, data):
        pass

    def apply_order_returned(self, data):
        pass
