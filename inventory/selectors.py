"""Inventory reads."""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from inventory.models import Product


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    sku: str
    name: str
    unit_price: Decimal
    currency: str
    active: bool
    available: int


def catalog_lookup(*, skus: Iterable[str]) -> dict[str, CatalogEntry]:
    """Catalog data and current availability of `skus` in one query; unknown skus are
    absent from the result."""
    wanted = {s for s in skus if isinstance(s, str)}
    if not wanted:
        return {}
    rows = Product.objects.filter(sku__in=wanted).select_related("stock")
    return {
        p.sku: CatalogEntry(sku=p.sku, name=p.name, unit_price=p.unit_price,
                            currency=p.currency, active=p.active, available=p.stock.available)
        for p in rows
    }
