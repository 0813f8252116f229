"""Shipment commands: staff put all or some lines of a confirmed order in a shipment and
buy its label; void a label the carrier does not have yet.

Each follows ARCHITECTURE §4 for external calls: the intent is recorded first in one
transaction (ShipmentCreated: the units leave stock, the label is `pending`), the carrier
call runs with no transaction or lock held and carries the shipment id as its idempotency
key, and the outcome is recorded in another transaction. A crash or a carrier outage in
between leaves a `label_pending` shipment that `labels_purchase_pending` (beat) buys later
with the same key, so the carrier never sells two labels for one parcel."""

import logging
import uuid
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from commerce.core import metrics
from commerce.core.errors import ServiceUnavailable, ValidationFailed
from orders import selectors as order_selectors
from orders import services as order_services
from orders.fulfilment_state import CANCELLABLE, LABEL_FAILED, LABEL_PENDING
from orders.models import OrderView
from orders.shipments import ShipmentCancelled, ShipmentNotCancellable
from shipping import carriers, parcels, selectors
from shipping.carriers.base import SERVICE_LEVELS, Address, CarrierRefused, Label, Parcel
from shipping.models import LabelDocument, Shipment

logger = logging.getLogger(__name__)

PURCHASABLE = frozenset({LABEL_PENDING, LABEL_FAILED})


def label_url(shipment_id) -> str:
    return f"/api/v1/shipping/shipments/{shipment_id}/label/"


def choose_service(*, order_id, carrier: str | None, service_level: str | None
                   ) -> tuple[str, str, str]:
    """(carrier, service level, carrier product code): what staff asked for, else what the
    customer chose at checkout, else the first enabled carrier's standard service."""
    chosen = order_selectors.order_shipping_option(order_id=order_id) or {}
    carrier = (carrier or chosen.get("carrier") or carriers.default()).lower()
    level = service_level or (chosen.get("service_level") if chosen.get("carrier") == carrier
                              else None) or "standard"
    if level not in SERVICE_LEVELS:
        raise ValidationFailed(details={"service_level": [f"One of {', '.join(SERVICE_LEVELS)}."]})
    return carrier, level, carriers.get_carrier(carrier).service_for(level)


def shipment_create(*, order_id, lines: list[dict] | None = None, carrier: str | None = None,
                    service_level: str | None = None, shipment_id=None) -> Shipment:
    """Put `lines` [{sku, quantity}] (None: everything not shipped yet) of a confirmed order
    in a new shipment, then buy its label. The shipment exists once this returns even if
    the carrier was down (status label_pending, bought later) or refused (label_failed)."""
    shipment_id = str(shipment_id or uuid.uuid4())
    carrier, level, code = choose_service(order_id=order_id, carrier=carrier,
                                          service_level=service_level)
    order_selectors.order_get(order_id=order_id)  # 404 before anything else
    wanted = lines if lines is not None else [
        {"sku": row["sku"], "quantity": row["unshipped"]}
        for row in selectors.unshipped_lines(order_id=order_id) if row["unshipped"]]
    parcel = parcels.parcel_for([line for line in wanted if isinstance(line, dict)
                                 and isinstance(line.get("quantity"), int)
                                 and isinstance(line.get("sku"), str)] or [])
    order_services.order_shipment_create(
        order_id=order_id, shipment_id=shipment_id, lines=lines, carrier=carrier,
        service_level=level, service_code=code, parcel=parcel.as_dict())
    return shipment_purchase_label(shipment_id=shipment_id)


def shipment_purchase_label(*, shipment_id) -> Shipment:
    """Buy the label of a shipment still waiting for one (a repeat returns it unchanged).
    Carrier down: the shipment stays label_pending (retried by beat). Carrier refuses:
    ShipmentLabelFailed with the carrier's words, for staff to act on."""
    shipment = selectors.shipment_get(shipment_id=shipment_id)
    if shipment.status not in PURCHASABLE:
        return shipment
    order = order_selectors.order_get(order_id=shipment.order_id)
    if order.status == "cancelled":  # nothing to send any more
        return shipment_void(shipment_id=shipment_id, reason="order cancelled")
    carrier = carriers.get_carrier(shipment.carrier)
    try:
        label = carrier.create_label(
            origin=parcels.origin(), destination=Address.from_dict(order.shipping_address),
            parcel=Parcel.from_dict(shipment.parcel), service_code=shipment.service_code,
            reference=str(shipment.shipment_id))
    except CarrierRefused as exc:
        metrics.SHIPPING_LABELS.labels(carrier=carrier.code, kind="shipment",
                                       outcome="refused").inc()
        order_services.order_shipment_label_failure(
            order_id=shipment.order_id, shipment_id=shipment.shipment_id,
            code=str(exc.details.get("carrier_code") or exc.code), message=exc.message)
        return selectors.shipment_get(shipment_id=shipment_id)
    except ServiceUnavailable:
        metrics.SHIPPING_LABELS.labels(carrier=carrier.code, kind="shipment",
                                       outcome="unavailable").inc()
        logger.warning("label purchase deferred: carrier unavailable",
                       extra={"shipment_id": str(shipment_id), "carrier": carrier.code})
        return shipment
    try:
        with transaction.atomic():
            store_label(shipment.shipment_id, order_id=shipment.order_id, kind="shipment",
                        label=label)
            order_services.order_shipment_label_record(
                order_id=shipment.order_id, shipment_id=shipment.shipment_id,
                tracking_number=label.tracking_number, label_url=label_url(shipment_id),
                cost=label.cost, currency=label.currency)
    except ShipmentCancelled:
        # Cancelled while the carrier was selling the label: give the label back.
        _void_quietly(carrier, label.tracking_number)
        raise
    metrics.SHIPPING_LABELS.labels(carrier=carrier.code, kind="shipment", outcome="ok").inc()
    return selectors.shipment_get(shipment_id=shipment_id)


def store_label(owner_id, *, order_id, kind: str, label: Label) -> None:
    """Keep the carrier's document (idempotent: the same parcel's label once)."""
    LabelDocument.objects.get_or_create(id=owner_id, defaults={
        "order_id": order_id, "kind": kind, "carrier": label.carrier,
        "tracking_number": label.tracking_number, "content": label.document,
        "content_type": "application/pdf"})


def shipment_void(*, shipment_id, reason: str = "") -> Shipment:
    """Void the label of a shipment the carrier does not have yet and cancel the shipment:
    its units are held for the order again (409 shipment_not_cancellable once picked up)."""
    shipment = selectors.shipment_get(shipment_id=shipment_id)
    if shipment.status == "cancelled":
        return shipment
    if shipment.status not in CANCELLABLE:
        raise ShipmentNotCancellable(details={"shipment_id": str(shipment_id),
                                              "status": shipment.status})
    voided = False
    if shipment.label_purchase and shipment.tracking_number:
        try:
            carriers.get_carrier(shipment.carrier).void(
                tracking_number=shipment.tracking_number)
        except CarrierRefused as exc:
            raise ShipmentNotCancellable(exc.message, details={
                "shipment_id": str(shipment_id), **exc.details}) from exc
        voided = True
    order_services.order_shipment_cancel(order_id=shipment.order_id,
                                         shipment_id=shipment.shipment_id,
                                         reason=reason or "label voided", label_voided=voided)
    return selectors.shipment_get(shipment_id=shipment_id)


def labels_purchase_pending(*, older_than_seconds: int = 30, limit: int = 50) -> int:
    """Beat: buy the labels of shipments left label_pending (carrier down, crash). Each is
    its own attempt; returns how many got their label."""
    due = list(Shipment.objects.filter(
        status="label_pending", updated_at__lte=timezone.now() - timedelta(
            seconds=older_than_seconds)).order_by("updated_at")
        .values_list("shipment_id", flat=True)[:limit])
    bought = 0
    for shipment_id in due:
        try:
            bought += shipment_purchase_label(shipment_id=shipment_id).status != "label_pending"
        except Exception:  # one bad shipment never blocks the others; logged
            logger.exception("label purchase failed", extra={"shipment_id": str(shipment_id)})
    return bought


def shipments_settle_cancelled_orders(*, limit: int = 50) -> int:
    """Beat (and woken when an order is cancelled): void the labels of parcels still with
    us whose order was cancelled, so none is sent or billed. Returns how many."""
    cancelled = OrderView.objects.filter(status="cancelled").values("order_id")
    due = list(Shipment.objects.filter(status__in=CANCELLABLE, order_id__in=cancelled)
               .order_by("updated_at").values_list("shipment_id", flat=True)[:limit])
    settled = 0
    for shipment_id in due:
        try:
            shipment_void(shipment_id=shipment_id, reason="order cancelled")
            settled += 1
        except Exception:  # logged; the next run tries again
            logger.exception("could not void the label of a cancelled order",
                             extra={"shipment_id": str(shipment_id)})
    return settled


def _void_quietly(carrier, tracking_number: str) -> None:
    try:
        carrier.void(tracking_number=tracking_number)
    except Exception:
        logger.exception("could not void an orphan label",
                         extra={"carrier": carrier.code, "tracking_number": tracking_number})
