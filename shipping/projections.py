"""The shipping read models, updated inline with the order's shipment and return events and
rebuilt by `replay_events` (pure: times come from the events, ids are derived from them).
A shipment's status follows the same rule as the order aggregate's fold
(orders/fulfilment_state.py): the newest scan tells it, and delivered stays delivered."""

from datetime import datetime
from decimal import Decimal

from commerce.eventstore.projections import Projection, register
from commerce.eventstore.types import RecordedEvent
from orders import events as ev
from orders.fulfilment_state import DELIVERED, IN_TRANSIT, LABEL_CREATED, LABEL_PENDING
from shipping.models import (
    ReturnLine,
    ReturnRequest,
    Shipment,
    ShipmentLine,
    TrackingEvent,
    child_id,
)


@register
class ShippingProjection(Projection):
    name = "shipping"
    aggregate_types = frozenset({ev.ORDER})
    event_types = frozenset({
        ev.SHIPMENT_CREATED, ev.SHIPMENT_LABEL_PURCHASED, ev.SHIPMENT_LABEL_FAILED,
        ev.SHIPMENT_TRACKING_UPDATED, ev.SHIPMENT_CANCELLED, ev.RETURN_REQUESTED,
        ev.RETURN_APPROVED, ev.RETURN_REJECTED, ev.RETURN_RECEIVED})
    models = (TrackingEvent, ShipmentLine, Shipment, ReturnLine, ReturnRequest)

    # --- shipments ----------------------------------------------------------------------
    def on_ShipmentCreated(self, event: RecordedEvent) -> None:
        d = event.data
        pending = d.get("label") == "pending"
        shipment = Shipment.objects.create(
            shipment_id=d["shipment_id"], order_id=event.aggregate_id, carrier=d["carrier"],
            service_level=d.get("service_level", ""), service_code=d.get("service_code", ""),
            tracking_number=d.get("tracking_number", ""), label_purchase=pending,
            status=LABEL_PENDING if pending else IN_TRANSIT, parcel=d.get("parcel"),
            created_at=event.created_at, updated_at=event.created_at)
        ShipmentLine.objects.bulk_create(
            ShipmentLine(id=child_id(shipment.shipment_id, line["sku"]), shipment=shipment,
                         line_no=line["line_no"], sku=line["sku"], quantity=line["quantity"])
            for line in d.get("lines") or [])  # v1 shipments (whole order) listed no lines

    def _shipment(self, event: RecordedEvent, **changes) -> None:
        Shipment.objects.filter(pk=event.data["shipment_id"]).update(
            **changes, updated_at=event.created_at)

    def on_ShipmentLabelPurchased(self, event: RecordedEvent) -> None:
        d = event.data
        self._shipment(event, status=LABEL_CREATED, tracking_number=d["tracking_number"],
                       label_url=d.get("label_url", ""), label_cost=Decimal(d["cost"]),
                       label_currency=d.get("currency", ""), failure_code="",
                       failure_message="")

    def on_ShipmentLabelFailed(self, event: RecordedEvent) -> None:
        self._shipment(event, status="label_failed", failure_code=event.data["code"],
                       failure_message=event.data["message"])

    def on_ShipmentCancelled(self, event: RecordedEvent) -> None:
        self._shipment(event, status="cancelled", cancel_reason=event.data.get("reason", ""))

    def on_ShipmentTrackingUpdated(self, event: RecordedEvent) -> None:
        d = event.data
        at = datetime.fromisoformat(d["occurred_at"])
        shipment = Shipment.objects.get(pk=d["shipment_id"])
        TrackingEvent.objects.create(
            id=child_id(event.id, "tracking"), shipment=shipment, status=d["status"],
            code=d.get("code", "")[:20], description=d.get("description", "")[:200],
            location=d.get("location", "")[:200], occurred_at=at,
            recorded_at=event.created_at, source=d.get("source", ""))
        changes = {}
        if shipment.status != DELIVERED and (shipment.last_event_at is None
                                             or at >= shipment.last_event_at):
            changes.update(status=d["status"], last_event_at=at)
        if d["status"] == DELIVERED:
            changes["status"] = DELIVERED
            if shipment.delivered_at is None or at < shipment.delivered_at:
                changes["delivered_at"] = at
        self._shipment(event, **changes)

    # --- returns ------------------------------------------------------------------------
    def on_ReturnRequested(self, event: RecordedEvent) -> None:
        d = event.data
        request = ReturnRequest.objects.create(
            return_id=d["return_id"], order_id=event.aggregate_id, status="requested",
            reason=d.get("reason", ""), requested_at=event.created_at,
            updated_at=event.created_at)
        ReturnLine.objects.bulk_create(
            ReturnLine(id=child_id(request.return_id, line["sku"]), return_request=request,
                       line_no=line["line_no"], sku=line["sku"], quantity=line["quantity"])
            for line in d["lines"])

    def _return(self, event: RecordedEvent, **changes) -> None:
        ReturnRequest.objects.filter(pk=event.data["return_id"]).update(
            **changes, updated_at=event.created_at)

    def on_ReturnApproved(self, event: RecordedEvent) -> None:
        d = event.data
        self._return(event, status="approved", decided_at=event.created_at,
                     carrier=d.get("carrier", ""), service_level=d.get("service_level", ""),
                     tracking_number=d.get("tracking_number", ""),
                     label_url=d.get("label_url", ""))

    def on_ReturnRejected(self, event: RecordedEvent) -> None:
        self._return(event, status="rejected", decided_at=event.created_at,
                     decision_reason=event.data.get("reason", ""))

    def on_ReturnReceived(self, event: RecordedEvent) -> None:
        d = event.data
        self._return(event, status="received", received_at=event.created_at,
                     goods_refund=Decimal(d["goods_refund"]),
                     shipping_refund=Decimal(d["shipping_refund"]),
                     refund_amount=Decimal(d["refund_amount"]), refund_id=d.get("refund_id"))
        for line in d["lines"]:
            ReturnLine.objects.filter(id=child_id(d["return_id"], line["sku"])).update(
                received_quantity=line["quantity"], disposition=line["disposition"])
