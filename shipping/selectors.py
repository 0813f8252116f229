"""Shipping reads, from the read models (shipments with lines and timeline, returns)."""

from django.db.models import Prefetch, QuerySet

from commerce.core.errors import NotFound
from orders.models import OrderLine
from shipping.models import (
    LabelDocument,
    ReturnLine,
    ReturnRequest,
    Shipment,
    ShipmentLine,
    TrackingEvent,
)

_WITH_DETAIL = (Prefetch("lines", queryset=ShipmentLine.objects.order_by("line_no")),
                Prefetch("events", queryset=TrackingEvent.objects.order_by("occurred_at",
                                                                          "recorded_at")))


def shipment_get(*, shipment_id, order_id=None) -> Shipment:
    qs = Shipment.objects.prefetch_related(*_WITH_DETAIL)
    if order_id is not None:
        qs = qs.filter(order_id=order_id)
    try:
        return qs.get(pk=shipment_id)
    except (Shipment.DoesNotExist, ValueError):
        raise NotFound("Shipment not found.") from None


def shipment_list(*, order_id=None, status: str | None = None, carrier: str | None = None,
                  tracking_number: str | None = None) -> QuerySet[Shipment]:
    qs = Shipment.objects.prefetch_related(*_WITH_DETAIL).order_by("-created_at", "shipment_id")
    if order_id is not None:
        qs = qs.filter(order_id=order_id)
    if status:
        qs = qs.filter(status=status)
    if carrier:
        qs = qs.filter(carrier__iexact=carrier)
    if tracking_number:
        qs = qs.filter(tracking_number=tracking_number)
    return qs


def shipments_for_order(*, order_id) -> list[Shipment]:
    """Oldest first: the order's parcels in the order they were made up."""
    return list(Shipment.objects.prefetch_related(*_WITH_DETAIL).filter(order_id=order_id)
                .order_by("created_at", "shipment_id"))


def unshipped_lines(*, order_id) -> list[dict]:
    """[{line_no, sku, name, ordered, shipped, unshipped}] of the order."""
    shipped: dict[str, int] = {}
    for line in ShipmentLine.objects.filter(shipment__order_id=order_id).exclude(
            shipment__status="cancelled"):
        shipped[line.sku] = shipped.get(line.sku, 0) + line.quantity
    legacy = Shipment.objects.filter(order_id=order_id, lines__isnull=True).exclude(
        status="cancelled").exists()  # a whole-order shipment from before split shipments
    rows = []
    for line in OrderLine.objects.filter(order_id=order_id).order_by("line_no"):
        done = line.quantity if legacy else shipped.get(line.sku, 0)
        rows.append({"line_no": line.line_no, "sku": line.sku, "name": line.name,
                     "ordered": line.quantity, "shipped": done,
                     "unshipped": line.quantity - done})
    return rows


_RETURN_DETAIL = Prefetch("lines", queryset=ReturnLine.objects.order_by("line_no"))


def return_get(*, return_id, order_id=None) -> ReturnRequest:
    qs = ReturnRequest.objects.prefetch_related(_RETURN_DETAIL)
    if order_id is not None:
        qs = qs.filter(order_id=order_id)
    try:
        return qs.get(pk=return_id)
    except (ReturnRequest.DoesNotExist, ValueError):
        raise NotFound("Return not found.") from None


def return_list(*, status: str | None = None, order_id=None) -> QuerySet[ReturnRequest]:
    """The returns queue: oldest request first (what staff handle next)."""
    qs = ReturnRequest.objects.prefetch_related(_RETURN_DETAIL).order_by("requested_at",
                                                                         "return_id")
    if status:
        qs = qs.filter(status=status)
    if order_id is not None:
        qs = qs.filter(order_id=order_id)
    return qs


def label_get(*, label_id) -> LabelDocument:
    label = LabelDocument.objects.filter(pk=label_id).first()
    if label is None:
        raise NotFound("No label was bought for this yet.")
    return label
