"""Demo catalog for `manage.py seed_demo`: a dozen products, idempotent (existing skus are
left as they are)."""

import uuid

from inventory.models import InventoryItem
from inventory.services import item_create, item_update

# A fixed namespace so every machine seeds the same product ids.
_DEMO_NAMESPACE = uuid.UUID("9e0f4f3a-52d6-4c4e-8a0b-1c2d3e4f5a6b")

DEMO_ITEMS = [
    # sku, name, price, quantity, product
    ("TEE-BLK-S", "T-shirt black S", "19.90", 40, "tee-black"),
    ("TEE-BLK-M", "T-shirt black M", "19.90", 60, "tee-black"),
    ("TEE-BLK-L", "T-shirt black L", "19.90", 8, "tee-black"),
    ("HOODIE-GRY-M", "Hoodie grey M", "49.00", 25, "hoodie-grey"),
    ("MUG-LOGO", "Logo mug", "9.50", 120, "mug"),
    ("CAP-NAVY", "Navy cap", "15.00", 4, "cap"),
    ("SOCKS-3PK", "Socks, 3 pack", "12.00", 200, "socks"),
    ("BOTTLE-750", "Water bottle 750 ml", "22.50", 35, "bottle"),
    ("TOTE-CANVAS", "Canvas tote bag", "14.00", 0, "tote"),
    ("STICKER-SET", "Sticker set", "4.99", 500, "stickers"),
    ("NOTEBOOK-A5", "Notebook A5", "7.90", 9, "notebook"),
    ("LIMITED-PRINT", "Limited art print", "89.00", 10, "print"),
]


# One packed unit, for carrier rates and labels: weight kg, length × width × height cm.
MEASURES = {
    "tee": ("0.220", "30", "25", "2"), "hoodie": ("0.650", "35", "30", "6"),
    "mug": ("0.450", "15", "12", "12"), "cap": ("0.150", "25", "20", "12"),
    "socks": ("0.200", "20", "12", "4"), "bottle": ("0.300", "28", "9", "9"),
    "tote": ("0.180", "38", "35", "1"), "stickers": ("0.050", "15", "10", "1"),
    "notebook": ("0.250", "22", "15", "2"), "print": ("0.400", "60", "8", "8"),
}


def _measures(product: str) -> dict:
    weight, length, width, height = MEASURES[product.split("-")[0]]
    return {"weight_kg": weight, "length_cm": length, "width_cm": width, "height_cm": height}


def seed(stdout) -> None:
    existing = dict(InventoryItem.objects.values_list("sku", "catalog__weight_kg"))
    created = 0
    for sku, name, price, quantity, product in DEMO_ITEMS:
        if sku in existing:
            if existing[sku] is None:  # seeded before products had shipping measures
                item_update(sku=sku, **_measures(product))
            continue
        item_create(sku=sku, product_id=uuid.uuid5(_DEMO_NAMESPACE, product), name=name,
                    price=price, currency="USD", total_quantity=quantity, **_measures(product))
        created += 1
    stdout.write(f"  catalog: {created} items created, {len(DEMO_ITEMS) - created} already there")
