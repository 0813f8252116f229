"""The shipping back office: shipments with timeline and label, create shipment for selected
lines, void, and the returns queue (approve, reject, receive)."""

import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client

from commerce.accounts import roles
from orders import services as order_services
from orders.selectors import order_get
from shipping import returns, services
from shipping.models import ReturnRequest, Shipment
from tests.inventory.helpers import levels
from tests.shipping.conftest import deliver_webhook

pytestmark = pytest.mark.django_db
SHIPMENTS = "/admin/shipping/shipment/"
RETURNS = "/admin/shipping/returnrequest/"


@pytest.fixture
def browser(make_staff):
    def login(*role_names):
        client = Client()
        client.force_login(make_staff(*role_names))
        return client
    return login


def test_create_a_shipment_for_selected_lines(carrier_sim, confirmed_order, three_items,
                                              browser):
    order = confirmed_order()
    client = browser(roles.INVENTORY)
    a, b, c = three_items
    # the queue lists the order; its form lists each line with what is left to ship
    assert str(order.order_id) in client.get(f"{SHIPMENTS}create/").content.decode()
    form = client.get(f"{SHIPMENTS}create/", {"order_id": order.order_id}).content.decode()
    assert f'name="qty_{b.sku}"' in form and 'max="3"' in form
    # when staff put 1 × a and 2 × b in a DHL parcel
    r = client.post(f"{SHIPMENTS}create/", {
        "order_id": order.order_id, f"qty_{a.sku}": "1", f"qty_{b.sku}": "2",
        f"qty_{c.sku}": "0", "carrier": "dhl", "service_level": "express"})
    shipment = Shipment.objects.get()
    assert r.status_code == 302 and r.url == f"{SHIPMENTS}{shipment.pk}/change/"
    assert (shipment.carrier, shipment.service_level, shipment.status) == (
        "dhl", "express", "label_created")
    assert [(ln.sku, ln.quantity) for ln in shipment.lines.all()] == [(a.sku, 1), (b.sku, 2)]
    assert levels(b.sku) == (48, 1, 47)
    assert LogEntry.objects.filter(change_message="Create shipment").count() == 1
    # and its page shows the timeline and the label
    carrier_sim.advance(shipment.tracking_number, steps=1)
    for push in carrier_sim.advance(shipment.tracking_number, steps=1):
        deliver_webhook(Client(), push)
    page = client.get(f"{SHIPMENTS}{shipment.pk}/change/").content.decode()
    assert shipment.tracking_number in page and "Download label (PDF)" in page
    assert "tracking timeline" in page.lower() and "in_transit" in page
    label = client.get(f"{SHIPMENTS}{shipment.pk}/label/")
    assert label["Content-Type"] == "application/pdf" and label.content.startswith(b"%PDF")


def test_void_button_and_who_may_press_it(carrier_sim, confirmed_order, browser):
    order = confirmed_order()
    shipment = services.shipment_create(order_id=order.order_id, carrier="fedex")
    viewer = browser()  # an admin without shipping roles still is admin: use inventory-less
    support_only = browser(roles.SUPPORT)
    r = support_only.post(f"{SHIPMENTS}{shipment.pk}/void/", {"reason": "wrong address"},
                          follow=True)
    assert "Void label: done." in r.content.decode()
    assert Shipment.objects.get(pk=shipment.pk).status == "cancelled"
    assert order_get(order_id=order.order_id).status == "confirmed"
    assert viewer.get(f"{SHIPMENTS}{shipment.pk}/void/").status_code == 405


def test_the_returns_queue_approve_and_receive(carrier_sim, confirmed_order, three_items,
                                               browser, django_capture_on_commit_callbacks):
    order = confirmed_order()
    order_services.order_ship(order_id=order.order_id, carrier="ups", tracking_number="1Z1")
    order_services.order_deliver(order_id=order.order_id)
    a = three_items[0]
    found = returns.return_request(order_id=order.order_id, reason="broken",
                                   lines=[{"sku": a.sku, "quantity": 2}])
    support, inventory = browser(roles.SUPPORT), browser(roles.INVENTORY)
    assert str(found.return_id)[:8] in support.get(f"{RETURNS}?status=requested").content \
        .decode()
    # inventory staff cannot decide; support approves (a label is bought)
    inventory.post(f"{RETURNS}{found.pk}/approve/", {})
    assert ReturnRequest.objects.get(pk=found.pk).status == "requested"
    support.post(f"{RETURNS}{found.pk}/approve/", {"carrier": "ups"})
    found.refresh_from_db()
    assert (found.status, found.carrier) == ("approved", "ups")
    assert "Download return label (PDF)" in support.get(
        f"{RETURNS}{found.pk}/change/").content.decode()
    # inventory staff receive it: one restocked, one written off
    with django_capture_on_commit_callbacks(execute=True):
        inventory.post(f"{RETURNS}{found.pk}/receive/", {
            f"qty_{a.sku}": "2", f"disposition_{a.sku}": "write_off"})
    found.refresh_from_db()
    assert (found.status, found.refund_amount) == ("received", 20)
    assert levels(a.sku) == (48, 0, 48)  # written off: not back in stock
    assert order_get(order_id=order.order_id).refunded_amount == 20
    assert LogEntry.objects.filter(change_message__in=["Approve return", "Receive return"]) \
        .count() == 2
