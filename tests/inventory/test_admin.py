import uuid

import pytest
from django.test import Client

from commerce.accounts.services import staff_create
from commerce.eventstore.models import Event
from inventory import events as ev
from inventory import services
from inventory.models import InventoryItem
from tests.factories import make_item
from tests.inventory.helpers import levels

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_():
    user = staff_create(email="root@example.com", password="pw-12345678", roles=())
    user.is_superuser = True
    user.save()
    client = Client()
    client.force_login(user)
    return client, user


def test_item_changelist_shows_available_and_filters_low_stock(admin_client_):
    client, _ = admin_client_
    make_item(sku="ADM-LOW", quantity=2)
    make_item(sku="ADM-OK", quantity=80)
    page = client.get("/admin/inventory/inventoryitem/?stock=low")
    assert page.status_code == 200
    html = page.content.decode()
    assert "ADM-LOW" in html and "ADM-OK" not in html
    assert "column-available" in html


def test_admin_creates_and_edits_items_through_services(admin_client_):
    client, user = admin_client_
    # when staff add an item in the admin
    r = client.post("/admin/inventory/inventoryitem/add/", {
        "sku": "ADM-NEW", "product_id": str(uuid.uuid4()), "name": "Admin made",
        "price": "3.30", "currency": "USD", "active": "on", "total_quantity": "6",
        "low_stock_threshold": "1", "reorder_point": "2", "reorder_quantity": "3",
    })
    assert r.status_code == 302, r.content.decode()[:2000]
    # then it exists with an event trail naming the staff user
    assert levels("ADM-NEW") == (6, 0, 6)
    assert set(Event.objects.filter(aggregate_id=ev.stock_item_id("ADM-NEW"))
               .values_list("actor", flat=True)) == {f"user:{user.pk}"}
    item = InventoryItem.objects.get(sku="ADM-NEW")
    # when they change its price, then it is a ProductUpdated event
    r = client.post(f"/admin/inventory/inventoryitem/{item.pk}/change/", {
        "name": "Admin made", "price": "4.40", "currency": "USD", "active": "on",
        "low_stock_threshold": "1", "reorder_point": "2", "reorder_quantity": "3",
    })
    assert r.status_code == 302, r.content.decode()[:2000]
    assert str(InventoryItem.objects.get(sku="ADM-NEW").unit_price) == "4.40"
    assert Event.objects.filter(aggregate_id=item.pk, event_type="ProductUpdated").count() == 1
    # and the change page shows the movement history
    page = client.get(f"/admin/inventory/inventoryitem/{item.pk}/change/").content.decode()
    assert "initial stock" in page


def test_admin_refuses_duplicate_sku(admin_client_):
    client, _ = admin_client_
    make_item(sku="ADM-DUP")
    r = client.post("/admin/inventory/inventoryitem/add/", {
        "sku": "ADM-DUP", "product_id": str(uuid.uuid4()), "name": "x", "price": "1.00",
        "currency": "USD", "total_quantity": "0", "low_stock_threshold": "1",
        "reorder_point": "2", "reorder_quantity": "3",
    })
    assert r.status_code == 200
    assert "already exists" in r.content.decode()
    assert InventoryItem.objects.filter(sku="ADM-DUP").count() == 1


def test_receive_stock_action(admin_client_):
    client, _ = admin_client_
    a = make_item(sku="ADM-A", quantity=1)
    b = make_item(sku="ADM-B", quantity=2)
    url = "/admin/inventory/inventoryitem/"
    # when the action is chosen, then a form asks for the quantity
    page = client.post(url, {"action": "receive_stock", "_selected_action": [a.pk, b.pk]})
    assert page.status_code == 200
    assert "Receive stock" in page.content.decode()
    # when it is submitted, then each item receives the units
    r = client.post(url, {"action": "receive_stock", "_selected_action": [a.pk, b.pk],
                          "apply": "1", "quantity": "10", "reason": "delivery 42"})
    assert r.status_code == 302
    assert levels("ADM-A") == (11, 0, 11)
    assert levels("ADM-B") == (12, 0, 12)


def test_reservation_and_movement_admin_pages(admin_client_):
    client, _ = admin_client_
    make_item(sku="ADM-R", quantity=5)
    reservation = services.stock_reserve(order_id=uuid.uuid4(),
                                         lines=[{"sku": "ADM-R", "quantity": 1}])
    page = client.get("/admin/inventory/reservation/?status__exact=reserved")
    assert page.status_code == 200 and str(reservation.id) in page.content.decode()
    assert client.get(f"/admin/inventory/reservation/{reservation.pk}/change/").status_code == 200
    page = client.get("/admin/inventory/stockmovement/?sku=ADM-R")
    assert page.status_code == 200 and "reserved" in page.content.decode()
