"""Shipment commands on the order (re-exported by orders.services): all or some units of a
confirmed order go into shipments (split shipments), stock leaves per shipped quantity in
the same transaction, labels and tracking are recorded as the carrier answers.

The shipping app orchestrates the carrier calls (outside transactions) and calls these to
record what happened; `order_ship` is the whole-order shipment typed in by hand (carrier
and tracking number, no label purchase). Every command is idempotent: a shipment id, a
label or a tracking event already recorded is a no-op."""

import uuid
from typing import Any

from commerce.core.errors import ConcurrencyError, Conflict, ErrorCode, ValidationFailed
from commerce.eventstore.models import Event
from inventory import services as inventory_services
from inventory.errors import InvalidReservationState
from orders import events as ev
from orders.aggregate import Order
from orders.fulfilment_state import CANCELLABLE, CANCELLED, DELIVERED, TRACKING_STATUSES
from orders.lifecycle import OrderStatus
from orders.models import OrderView
from orders.services import _SHIPMENT_NAMESPACE, _execute, _uuid
from orders.validation import REASON_MAX_LENGTH, clean_text

SHIPMENT_EVENT_VERSION = 2  # v1: whole order, no lines (orders/upcasters.py)


class ShipmentNotFound(Conflict):
    code = ErrorCode.NOT_FOUND
    http_status = 404
    default_message = "The order has no such shipment."


class ShipmentNotCancellable(Conflict):
    code = ErrorCode.SHIPMENT_NOT_CANCELLABLE
    default_message = "The shipment is with the carrier already; it cannot be cancelled."


class ShipmentCancelled(Conflict):
    default_message = "The shipment was cancelled."


def fulfilment_reference(shipment_id) -> str:
    """The inventory reference of a shipment's stock movement."""
    return f"shipment:{shipment_id}"


def clean_quantities(lines: Any, limits: dict[str, int], *, what: str) -> dict[str, int]:
    """[{sku, quantity}] → {sku: quantity}, each within `limits` (what is left to ship or
    return), or ValidationFailed naming every bad line."""
    if not isinstance(lines, list) or not lines:
        raise ValidationFailed(details={"lines": ["At least one line is required."]})
    counts: dict[str, int] = {}
    errors: list[dict] = []
    for line in lines:
        sku = line.get("sku") if isinstance(line, dict) else None
        quantity = line.get("quantity") if isinstance(line, dict) else None
        if not isinstance(sku, str) or sku not in limits:
            errors.append({"sku": ["Not a line of this order."]})
        elif isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            errors.append({"quantity": ["A positive integer is required."]})
        else:
            counts[sku] = counts.get(sku, 0) + quantity
            errors.append({})
    over = {sku for sku, n in counts.items() if n > limits[sku]}
    if any(errors) or over:
        raise ValidationFailed(
            f"Some lines have fewer units {what}." if over else "Some lines are invalid.",
            details={"lines": [e or ({"quantity": [f"At most {limits[ln['sku']]} {what}."]}
                                     if ln["sku"] in over else {})
                               for e, ln in zip(errors, lines, strict=True)]})
    return counts


def create_shipment(order: Order, *, shipment_id: str, counts: dict[str, int], carrier: str,
                    service_level: str = "", service_code: str = "", tracking_number: str = "",
                    parcel: dict | None = None, label: str = "none") -> None:
    """Record ShipmentCreated (+ OrderShipped or OrderPartiallyShipped) on `order` and take
    the units out of stock (inside the caller's transaction)."""
    order.require("create_shipment")
    try:
        inventory_services.reservation_fulfill_lines(
            order_id=order.id, lines=[{"sku": s, "quantity": n} for s, n in counts.items()],
            reference=fulfilment_reference(shipment_id))
    except InvalidReservationState:
        # We waited on the reservation's lock for a concurrent shipment of this order that
        # took these units: decide again on the order as it is now (the caller retries).
        if Event.objects.filter(aggregate_id=order.id, version__gt=order.version).exists():
            raise ConcurrencyError(details={"order_id": str(order.id)}) from None
        raise
    order.record(ev.SHIPMENT_CREATED, {
        "shipment_id": shipment_id, "carrier": carrier, "service_level": service_level,
        "service_code": service_code, "tracking_number": tracking_number,
        "lines": order.with_line_numbers(counts), "parcel": parcel, "label": label,
    }, event_version=SHIPMENT_EVENT_VERSION)
    if any(order.unshipped().values()):
        order.require("ship_partially")
        order.record(ev.ORDER_PARTIALLY_SHIPPED, {"shipment_id": shipment_id})
    else:
        order.require("ship")
        order.record(ev.ORDER_SHIPPED, {})


def order_shipment_create(*, order_id, shipment_id, lines: list[dict] | None, carrier: str,
                          service_level: str = "", service_code: str = "",
                          parcel: dict | None = None) -> OrderView:
    """A shipment whose label the shipping app buys next (label "pending"): `lines`
    [{sku, quantity}] or None for every unit not shipped yet. Refused (400) beyond what is
    left to ship; 409 unless the order is confirmed or partially shipped without a pending
    cancellation. The same shipment_id again is a no-op."""
    shipment_id = _uuid(shipment_id, "shipment_id")
    carrier = clean_text(carrier, "carrier", max_length=20, required=True)

    def decide(order: Order) -> None:
        if shipment_id in order.shipments:
            return
        order.require("create_shipment")
        left = {sku: n for sku, n in order.unshipped().items() if n}
        counts = left if lines is None else clean_quantities(lines, left, what="to ship")
        if not counts:
            raise ValidationFailed(details={"lines": ["Every unit is shipped already."]})
        create_shipment(order, shipment_id=shipment_id, counts=counts, carrier=carrier,
                        service_level=service_level, service_code=service_code,
                        parcel=parcel, label="pending")

    return _execute(order_id, decide)


def order_ship(*, order_id, carrier: str = "", tracking_number: str = "") -> OrderView:
    """Ship every unit not shipped yet as one shipment typed in by hand (carrier and
    tracking number, no label purchase): ShipmentCreated + OrderShipped, stock fulfilled in
    the same transaction. Repeating it when nothing is left to ship is a no-op."""
    carrier = clean_text(carrier, "carrier", max_length=100)
    tracking_number = clean_text(tracking_number, "tracking_number", max_length=100)

    def decide(order: Order) -> None:
        left = {sku: n for sku, n in order.unshipped().items() if n}
        if not left:
            return
        order.require("ship")
        name = str(order.id) if not order.shipments else f"{order.id}:{len(order.shipments)}"
        create_shipment(order, shipment_id=str(uuid.uuid5(_SHIPMENT_NAMESPACE, name)),
                        counts=left, carrier=carrier, tracking_number=tracking_number)

    return _execute(order_id, decide)


def _shipment(order: Order, shipment_id: str) -> dict:
    shipment = order.shipments.get(shipment_id)
    if shipment is None:
        raise ShipmentNotFound(details={"shipment_id": shipment_id})
    return shipment


def order_shipment_label_record(*, order_id, shipment_id, tracking_number: str, label_url: str,
                                cost, currency: str) -> OrderView:
    """The carrier sold the label: ShipmentLabelPurchased. Refused (409) for a cancelled
    shipment, whose label the caller must void. A repeat is a no-op."""
    shipment_id = _uuid(shipment_id, "shipment_id")

    def decide(order: Order) -> None:
        shipment = _shipment(order, shipment_id)
        if shipment["tracking_number"] and shipment["status"] != CANCELLED:
            return
        if shipment["status"] == CANCELLED:
            raise ShipmentCancelled("The shipment was cancelled; void its label.",
                                    details={"shipment_id": shipment_id})
        order.record(ev.SHIPMENT_LABEL_PURCHASED, {
            "shipment_id": shipment_id, "carrier": shipment["carrier"],
            "tracking_number": tracking_number, "label_url": label_url,
            "cost": str(cost), "currency": currency})

    return _execute(order_id, decide)


def order_shipment_label_failure(*, order_id, shipment_id, code: str, message: str
                                 ) -> OrderView:
    """The carrier refused to sell the label (ShipmentLabelFailed): staff fix and retry,
    or cancel the shipment. Recorded once per failure streak."""
    shipment_id = _uuid(shipment_id, "shipment_id")

    def decide(order: Order) -> None:
        shipment = _shipment(order, shipment_id)
        if shipment["status"] != "label_pending":
            return
        order.record(ev.SHIPMENT_LABEL_FAILED, {"shipment_id": shipment_id,
                                                "code": code[:50], "message": message[:500]})

    return _execute(order_id, decide)


def order_shipment_cancel(*, order_id, shipment_id, reason: str, label_voided: bool
                          ) -> OrderView:
    """Cancel a shipment the carrier does not have yet (ShipmentCancelled): its units are
    held for the order again and the status follows (OrderPartiallyShipped, or
    OrderUnshipped when no shipment is left). A repeat is a no-op."""
    shipment_id = _uuid(shipment_id, "shipment_id")
    reason = clean_text(reason, "reason", max_length=REASON_MAX_LENGTH)

    def decide(order: Order) -> None:
        shipment = _shipment(order, shipment_id)
        if shipment["status"] == CANCELLED:
            return
        if shipment["status"] not in CANCELLABLE:
            raise ShipmentNotCancellable(details={"shipment_id": shipment_id,
                                                  "status": shipment["status"]})
        if order.status == OrderStatus.CANCELLED:  # its stock went back with the order
            order.record(ev.SHIPMENT_CANCELLED, {"shipment_id": shipment_id, "reason": reason,
                                                 "label_voided": label_voided})
            return
        order.require("unship")  # partially shipped or shipped (the rest follows below)
        inventory_services.reservation_unfulfill_lines(
            order_id=order.id, reference=fulfilment_reference(shipment_id),
            reason=f"shipment cancelled: {reason}".strip()[:200])
        order.record(ev.SHIPMENT_CANCELLED, {"shipment_id": shipment_id, "reason": reason,
                                             "label_voided": label_voided})
        if not order.active_shipments():
            order.require("unship")
            order.record(ev.ORDER_UNSHIPPED, {"shipment_id": shipment_id})
        elif order.status == OrderStatus.SHIPPED:
            order.record(ev.ORDER_PARTIALLY_SHIPPED, {"shipment_id": shipment_id})

    return _execute(order_id, decide)


def order_shipment_tracking_record(*, order_id, shipment_id, updates: list[dict]) -> int:
    """Record the carrier's tracking events not recorded yet (ShipmentTrackingUpdated,
    deduplicated by each update's `key`); when every shipment of a shipped order is
    delivered, OrderDelivered. Returns how many events were new. Each update: key, status
    (one of TRACKING_STATUSES), code, description, location, occurred_at (ISO), source."""
    shipment_id = _uuid(shipment_id, "shipment_id")
    recorded = 0

    def decide(order: Order) -> None:
        nonlocal recorded
        recorded = 0
        shipment = _shipment(order, shipment_id)
        for update in sorted(updates, key=lambda u: u["occurred_at"]):
            if update["key"] in shipment["keys"] or shipment["status"] == CANCELLED:
                continue
            if update["status"] not in TRACKING_STATUSES:
                raise ValidationFailed(details={"status": [f"Unknown: {update['status']}"]})
            order.record(ev.SHIPMENT_TRACKING_UPDATED, {
                "shipment_id": shipment_id, "tracking_number": shipment["tracking_number"],
                **{k: update[k] for k in ("key", "status", "code", "description",
                                          "location", "occurred_at", "source")}})
            recorded += 1
        if recorded and order.status == OrderStatus.SHIPPED and order.all_delivered():
            order.require("deliver")
            order.record(ev.ORDER_DELIVERED, {})

    _execute(order_id, decide)
    return recorded


__all__ = ["DELIVERED", "order_ship", "order_shipment_cancel", "order_shipment_create",
           "order_shipment_label_failure", "order_shipment_label_record",
           "order_shipment_tracking_record"]
