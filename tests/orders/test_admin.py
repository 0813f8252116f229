import pytest
from django.test import Client

from commerce.accounts import roles
from commerce.eventstore.models import Event
from tests.orders.conftest import advance, snapshot

CHANGELIST = "/admin/orders/orderview/"


@pytest.fixture
def admin_client_for(make_staff):
    def make(*role_names):
        client = Client()
        client.force_login(make_staff(*role_names))
        return client

    return make


def test_changelist_filters_and_search(admin_client_for, place, customer):
    client = admin_client_for(roles.SUPPORT)
    order = place()
    other = advance(place(), "failed")
    r = client.get(CHANGELIST)
    assert r.status_code == 200
    assert str(order.order_id) in r.text and str(other.order_id) in r.text
    r = client.get(CHANGELIST, {"status__exact": "failed"})
    assert str(other.order_id) in r.text and str(order.order_id) not in r.text
    r = client.get(CHANGELIST, {"q": str(order.order_id)})
    assert str(order.order_id) in r.text and str(other.order_id) not in r.text
    r = client.get(CHANGELIST, {"q": customer.email[:8]})
    assert str(order.order_id) in r.text
    r = client.get(CHANGELIST, {"created_at__year": order.created_at.year + 1})
    assert r.status_code == 200 and str(order.order_id) not in r.text


def test_change_page_shows_lines_totals_history_and_buttons(admin_client_for, place, items):
    client = admin_client_for(roles.SUPPORT)
    order = advance(place(), "confirmed")
    r = client.get(f"{CHANGELIST}{order.order_id}/change/")
    assert r.status_code == 200
    for text in (items[0].sku, "27.50", "OrderPlaced", "OrderConfirmed", "Ship",
                 "Request cancellation"):
        assert text in r.text
    # the status is displayed, never an input
    assert 'name="status"' not in r.text


def test_transition_button_calls_the_service_with_staff_as_actor(admin_client_for, place,
                                                                 make_staff):
    staff = make_staff(roles.SUPPORT)
    client = Client()
    client.force_login(staff)
    order = advance(place(), "confirmed")
    url = f"{CHANGELIST}{order.order_id}/transition/ship/"
    r = client.post(url, {"carrier": "UPS", "tracking_number": "1Z"})
    assert r.status_code == 302
    shipped = Event.objects.get(aggregate_id=order.order_id, event_type="OrderShipped")
    assert shipped.actor == f"user:{staff.id}"
    created = Event.objects.get(aggregate_id=order.order_id, event_type="ShipmentCreated")
    assert created.event_data["carrier"] == "UPS"


def test_illegal_button_is_refused_and_writes_nothing(admin_client_for, place):
    client = admin_client_for(roles.SUPPORT)
    order = place()
    before = snapshot()
    r = client.post(f"{CHANGELIST}{order.order_id}/transition/ship/", follow=True)
    assert "refused" in r.text
    assert snapshot() == before
    # unknown actions and GETs change nothing either
    client.post(f"{CHANGELIST}{order.order_id}/transition/confirm/")
    assert client.get(f"{CHANGELIST}{order.order_id}/transition/ship/").status_code == 405
    assert snapshot() == before


def test_inventory_staff_can_view_but_not_act(admin_client_for, place):
    client = admin_client_for(roles.INVENTORY)
    order = advance(place(), "confirmed")
    assert client.get(f"{CHANGELIST}{order.order_id}/change/").status_code == 200
    before = snapshot()
    client.post(f"{CHANGELIST}{order.order_id}/transition/ship/")
    assert snapshot() == before


def test_bulk_action(admin_client_for, place):
    client = admin_client_for(roles.ADMIN)
    orders = [advance(place(), "shipped") for _ in range(2)]
    r = client.post(CHANGELIST, {"action": "bulk_deliver",
                                 "_selected_action": [str(o.order_id) for o in orders]})
    assert r.status_code == 302
    assert Event.objects.filter(event_type="OrderDelivered").count() == 2


def test_no_add_or_delete(admin_client_for, place):
    client = admin_client_for(roles.ADMIN)
    order = place()
    assert client.get(f"{CHANGELIST}add/").status_code == 403
    assert client.post(f"{CHANGELIST}{order.order_id}/delete/").status_code == 403
