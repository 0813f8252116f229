"""Addresses and parcels as carriers want them: the warehouse (settings.SHIPPING_ORIGIN),
the order's delivery address, and one parcel made up from catalog weights and dimensions.

Parcel rule: weight = Σ unit weight × quantity (settings.SHIPPING_DEFAULT_ITEM_WEIGHT_KG
where the catalog has none); length and width = the largest unit's; height = units stacked
(Σ unit height × quantity). Unknown dimensions count as 30 × 20 × 5 cm."""

from decimal import Decimal

from django.conf import settings

from inventory.selectors import catalog_measures
from shipping.carriers.base import Address, Parcel

DEFAULT_DIMENSIONS = (Decimal("30.0"), Decimal("20.0"), Decimal("5.0"))
MIN_WEIGHT = Decimal("0.100")


def origin() -> Address:
    return Address.from_dict(settings.SHIPPING_ORIGIN)


def parcel_for(lines: list[dict]) -> Parcel:
    """One parcel holding `lines` [{sku, quantity}]."""
    measures = catalog_measures(skus=[line["sku"] for line in lines])
    weight = Decimal("0")
    length = width = height = Decimal("0")
    for line in lines:
        m = measures.get(line["sku"])
        quantity = line["quantity"]
        unit_weight = (m.weight_kg if m and m.weight_kg else
                       settings.SHIPPING_DEFAULT_ITEM_WEIGHT_KG)
        dims = [getattr(m, f, None) or default for f, default in
                zip(("length_cm", "width_cm", "height_cm"), DEFAULT_DIMENSIONS, strict=True)]
        weight += unit_weight * quantity
        length, width = max(length, dims[0]), max(width, dims[1])
        height += dims[2] * quantity
    return Parcel(weight_kg=max(weight, MIN_WEIGHT).quantize(Decimal("0.001")),
                  length_cm=length.quantize(Decimal("0.1")),
                  width_cm=width.quantize(Decimal("0.1")),
                  height_cm=max(height, Decimal("1")).quantize(Decimal("0.1")))
