import uuid
from decimal import Decimal

import pytest

from commerce.core.errors import ValidationFailed
from commerce.eventstore.models import Event
from inventory import events as ev
from inventory.errors import DuplicateSku, ItemNotFound
from inventory.models import InventoryItem, Product
from inventory.selectors import CatalogEntry, catalog_lookup
from inventory.services import item_create, product_update
from tests.factories import make_item

pytestmark = pytest.mark.django_db


def test_item_create_makes_catalog_entry_and_stock_item_through_events():
    # given a new sku
    product_id = uuid.uuid4()
    # when it is created with initial stock
    item = item_create(sku="TSHIRT-M", product_id=product_id, name="T-shirt M",
                       price="19.90", currency="EUR", total_quantity=7)
    # then the stock item and its catalog entry exist with the given values
    assert (item.sku, item.product_id, item.total, item.reserved, item.available) == (
        "TSHIRT-M", str(product_id), 7, 0, 7)
    assert (item.name, item.unit_price, item.currency, item.active) == (
        "T-shirt M", Decimal("19.90"), "EUR", True)
    assert (item.low_stock_threshold, item.reorder_point, item.reorder_quantity) == (5, 10, 50)
    # and they were made by events on the sku's stream (created, then received)
    stream = list(Event.objects.filter(aggregate_id=ev.stock_item_id("TSHIRT-M"))
                  .values_list("event_type", "version"))
    assert stream == [("ItemCreated", 1), ("StockReceived", 2)]
    assert item.version == 2


def test_item_create_twice_with_one_sku_is_refused_and_writes_nothing():
    # given an existing sku
    make_item(sku="DUP-1")
    events_before = Event.objects.count()
    # when it is created again
    with pytest.raises(DuplicateSku) as exc:
        make_item(sku="DUP-1")
    # then it is refused with a field error and nothing is written
    assert exc.value.details == {"sku": ["An item with this sku already exists."]}
    assert Event.objects.count() == events_before
    assert Product.objects.filter(sku="DUP-1").count() == 1


@pytest.mark.parametrize(("field", "value"), [
    ("price", "abc"), ("price", "-1.00"), ("price", "1.001"), ("price", "NaN"),
    ("total_quantity", -1), ("currency", "usd"), ("sku", "bad sku"), ("sku", ""),
    ("product_id", "has space"), ("name", ""),
])
def test_item_create_rejects_bad_input_and_writes_nothing(field, value):
    # given valid arguments except one
    kwargs = {"sku": "OK-1", "product_id": uuid.uuid4(), "name": "Ok", "price": "1.00",
              "total_quantity": 1}
    kwargs[field] = value
    # when creating, then a field error names it
    with pytest.raises(ValidationFailed) as exc:
        item_create(**kwargs)
    assert list(exc.value.details) == [field]
    # and nothing was written
    assert Event.objects.count() == 0
    assert InventoryItem.objects.count() == 0


def test_product_update_changes_catalog_and_records_only_real_changes():
    # given an item
    make_item(sku="UPD-1", price="5.00")
    # when its price and activation change
    item = product_update(sku="UPD-1", price="6.50", active=False)
    # then the catalog shows them
    assert (item.unit_price, item.active) == (Decimal("6.50"), False)
    last = Event.objects.filter(aggregate_id=item.id).order_by("-version").first()
    assert (last.event_type, last.event_data) == (
        "ProductUpdated", {"sku": "UPD-1", "unit_price": "6.50", "active": False})
    # and repeating the same change records nothing
    before = Event.objects.count()
    product_update(sku="UPD-1", price="6.50", active=False)
    assert Event.objects.count() == before


def test_product_update_unknown_sku_is_not_found():
    with pytest.raises(ItemNotFound):
        product_update(sku="NOPE", price="1.00")
    assert Event.objects.count() == 0


def test_catalog_lookup_returns_known_skus_in_one_query(django_assert_num_queries):
    # given two items
    make_item(sku="CL-1", price="3.00", quantity=4)
    make_item(sku="CL-2", price="1.25", quantity=0, currency="EUR")
    # when looking up known and unknown skus
    with django_assert_num_queries(1):
        found = catalog_lookup(skus=["CL-1", "CL-2", "CL-X"])
    # then unknown skus are absent and known ones carry price and availability
    assert found == {
        "CL-1": CatalogEntry("CL-1", "Product CL-1", Decimal("3.00"), "USD", True, 4),
        "CL-2": CatalogEntry("CL-2", "Product CL-2", Decimal("1.25"), "EUR", True, 0),
    }
