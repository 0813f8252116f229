"""Test data made through the real services (never hand-made rows). Other apps' tests import
these instead of writing inventory rows themselves."""

import itertools
import uuid

from inventory.services import item_create

_counter = itertools.count(1)


def make_item(*, sku: str | None = None, price: str = "10.00", quantity: int = 100, **kw):
    """A catalog entry with `quantity` units in stock; returns the InventoryItem (which also
    exposes .name, .unit_price, .currency and .active of its catalog entry)."""
    sku = sku or f"SKU-{next(_counter):05d}-{uuid.uuid4().hex[:6]}"
    kw.setdefault("product_id", uuid.uuid4())
    kw.setdefault("name", f"Product {sku}")
    return item_create(sku=sku, price=price, total_quantity=quantity, **kw)
