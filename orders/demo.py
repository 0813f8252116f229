"""Demo orders for `manage.py seed_demo`, placed through order_place (after the inventory
demo catalog and the demo customers exist). Idempotent: fixed order ids, existing ones are
left alone."""

import uuid

from commerce.accounts.models import User
from commerce.core.demo import CUSTOMERS
from inventory.models import Product
from orders.models import OrderView
from orders.services import order_place

_DEMO_NAMESPACE = uuid.UUID("5c4b3a29-1807-4f6e-9d5c-4b3a29180706")

DEMO_ORDERS = [
    # customer, key, lines, payment method
    (CUSTOMERS[0], "alice-1", [("TEE-BLK-M", 2), ("MUG-LOGO", 1)], "pm_card_visa"),
    (CUSTOMERS[0], "alice-2", [("SOCKS-3PK", 3)], "pm_card_visa"),
    (CUSTOMERS[1], "bob-1", [("HOODIE-GRY-M", 1), ("STICKER-SET", 2)], "pm_card_visa"),
]
ADDRESSES = {
    CUSTOMERS[0]: {"name": "Alice Example", "line1": "1 Main Street", "city": "Springfield",
                   "postal_code": "12345", "country": "US"},
    CUSTOMERS[1]: {"name": "Bob Example", "line1": "2 High Street", "city": "Bristol",
                   "postal_code": "BS1 4DJ", "country": "GB"},
}


def seed(stdout) -> None:
    known_skus = set(Product.objects.values_list("sku", flat=True))
    created = skipped = 0
    for email, key, lines, payment_method in DEMO_ORDERS:
        order_id = uuid.uuid5(_DEMO_NAMESPACE, key)
        customer = User.objects.filter(email=email).first()
        if (OrderView.objects.filter(pk=order_id).exists() or customer is None
                or not {sku for sku, _ in lines} <= known_skus):
            skipped += 1
            continue
        order_place(customer_id=customer.id, order_id=order_id, channel="demo",
                    lines=[{"sku": sku, "quantity": qty} for sku, qty in lines],
                    shipping_address=ADDRESSES[email], payment_method=payment_method)
        created += 1
    stdout.write(f"  orders: {created} placed, {skipped} already there or not seedable")
