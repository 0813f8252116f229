"""The product document's data contract: product ids are the catalog service's strings
(up to 255 characters; UUIDs stored before keep working) and skus are up to 255 characters,
end to end (catalog, cart, order)."""

import uuid

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from commerce.accounts import roles
from inventory.models import InventoryItem, Product
from inventory.selectors import item_list
from orders.services import order_place
from tests.conftest import auth_client
from tests.factories import make_item

ADDRESS = {"name": "Ada Lovelace", "line1": "12 St James's Square", "city": "London",
           "postal_code": "SW1Y 4JH", "country": "GB"}
LONG_SKU = "S" + "k" * 254


@pytest.mark.django_db
def test_string_product_ids_through_the_api(make_staff):
    staff = auth_client(make_staff(roles.INVENTORY))
    body = {"sku": "DOC-1", "product_id": "prod_8f3a2c", "name": "Doc", "price": "1.00"}
    r = staff.post("/api/v1/inventory/items/", body, format="json")
    assert (r.status_code, r.json()["product_id"]) == (201, "prod_8f3a2c")
    r = staff.post("/api/v1/inventory/items/", {**body, "sku": "DOC-2",
                                                "product_id": "p" * 256}, format="json")
    assert r.status_code == 400 and "product_id" in r.json()["error"]["details"]
    assert [i.sku for i in item_list(product_id="prod_8f3a2c")] == ["DOC-1"]


@pytest.mark.django_db
def test_255_character_skus_end_to_end(customer, customer_api):
    item = make_item(sku=LONG_SKU, name="Long sku", quantity=5)
    assert item.sku == LONG_SKU
    r = customer_api.post("/api/v1/cart/items/", {"sku": LONG_SKU, "quantity": 1},
                          format="json")
    assert r.status_code == 201, r.json()
    order = order_place(customer_id=customer.id, lines=[{"sku": LONG_SKU, "quantity": 2}],
                        shipping_address=ADDRESS)
    assert order.lines.all()[0].sku == LONG_SKU
    assert customer_api.get(f"/api/v1/catalog/products/{LONG_SKU}/").status_code == 200
    too_long = customer_api.post("/api/v1/cart/items/", {"sku": LONG_SKU + "x"}, format="json")
    assert too_long.status_code == 400


@pytest.mark.django_db(transaction=True)
def test_migration_keeps_existing_uuid_product_ids():
    # given the schema before product ids became strings, with a UUID product id stored
    executor = MigrationExecutor(connection)
    executor.migrate([("inventory", "0002_staff_permissions")])
    old = executor.loader.project_state([("inventory", "0002_staff_permissions")]).apps
    product_id = uuid.uuid4()
    product = old.get_model("inventory", "Product").objects.create(
        id=uuid.uuid4(), sku="OLD-1", product_id=product_id, name="Old", unit_price="1.00",
        currency="USD", created_at="2026-01-01T00:00:00Z", updated_at="2026-01-01T00:00:00Z")
    old.get_model("inventory", "InventoryItem").objects.create(
        id=product.id, catalog_id=product.id, sku="OLD-1", product_id=product_id,
        updated_at="2026-01-01T00:00:00Z")
    # when the migration runs
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    # then the id is its canonical text and still finds the item
    assert Product.objects.get(sku="OLD-1").product_id == str(product_id)
    assert InventoryItem.objects.get(sku="OLD-1").product_id == str(product_id)
    assert [i.sku for i in item_list(product_id=str(product_id))] == ["OLD-1"]
