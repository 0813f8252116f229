"""Older stored shapes of order events, turned into the current ones when read (stored
events stay as they were written)."""

from commerce.eventstore.upcasting import upcaster
from orders import events as ev


@upcaster(ev.SHIPMENT_CREATED, from_version=1)
def shipment_created_v1_whole_order(data: dict) -> dict:
    """v1 (before split shipments) shipped the whole order without a label: `lines` None
    means every unit not yet shipped; the carrier and tracking number were typed in."""
    return {"shipment_id": data["shipment_id"], "carrier": data.get("carrier", ""),
            "service_level": "", "service_code": "",
            "tracking_number": data.get("tracking_number", ""), "lines": None,
            "parcel": None, "label": "none"}
