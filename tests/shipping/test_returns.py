"""Returns (RMA): request within the window, approve with a return label, receive (restock
or write off per line), refund the lines' share through the refund saga."""

import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from commerce.accounts import roles
from commerce.eventstore.models import Event
from inventory.selectors import stock_drift
from orders import services as order_services
from orders.selectors import order_get
from payments.models import Payment
from shipping import returns
from shipping.models import ReturnRequest
from tests.conftest import auth_client
from tests.inventory.helpers import levels

pytestmark = pytest.mark.django_db


@pytest.fixture
def delivered(confirmed_order):
    def make(**kw):
        order = confirmed_order(**kw)
        order_services.order_ship(order_id=order.order_id, carrier="fedex",
                                  tracking_number="794600000001")
        order_services.order_deliver(order_id=order.order_id)
        return order_get(order_id=order.order_id)
    return make


@pytest.fixture
def support(make_staff):
    return auth_client(make_staff(roles.SUPPORT))


def returns_url(order_id):
    return f"/api/v1/orders/{order_id}/returns/"


def events(order_id, *types):
    return [(e.event_type, e.event_data) for e in Event.objects.filter(
        aggregate_id=order_id, event_type__in=types).order_by("version")]


def assert_money_balances(order_id):
    order = order_get(order_id=order_id)
    payment = Payment.objects.get(order_id=order_id)
    assert payment.amount_captured - payment.amount_refunded == \
        order.captured_amount - order.refunded_amount


@pytest.mark.django_db(transaction=True)
def test_return_of_one_line_restocks_and_refunds_exactly_its_share(
        carrier_sim, delivered, three_items, customer_api, support):
    order = delivered()
    b = three_items[1]
    assert levels(b.sku) == (47, 0, 47)
    # when the customer asks to return one of the three 25.00 units
    r = customer_api.post(returns_url(order.order_id), {
        "lines": [{"sku": b.sku, "quantity": 1}], "reason": "too big"}, format="json")
    assert r.status_code == 201, r.json()
    requested = r.json()
    assert (requested["status"], requested["label_url"]) == ("requested", "")
    return_id = requested["return_id"]
    # when support approves it, then a return label is bought and its URL sent
    r = support.post(f"/api/v1/shipping/returns/{return_id}/approve/", {}, format="json")
    assert r.status_code == 200, r.json()
    approved = r.json()
    assert approved["status"] == "approved" and approved["carrier"] == "fedex"
    path = f"/api/v1/orders/{order.order_id}/returns/{return_id}/label/"
    label_url = f"http://127.0.0.1:8000{path}?token={returns.return_label_token(return_id)}"
    assert approved["label_url"] == label_url
    assert events(order.order_id, "ReturnApproved") == [("ReturnApproved", {
        "return_id": return_id, "lines": [{"line_no": 2, "sku": b.sku, "quantity": 1}],
        "carrier": "fedex", "service_level": "economy",
        "tracking_number": approved["tracking_number"], "label_url": label_url})]
    parcel = carrier_sim.state.shipments[approved["tracking_number"]]
    assert parcel.is_return and parcel.destination["postal_code"] == "38118"
    # the link works as sent (no sign-in), the customer may fetch it too, a guess may not
    pdf = APIClient().get(label_url)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    assert customer_api.get(path).status_code == 200
    assert APIClient().get(f"{path}?token=guessed").status_code == 401
    # when the parcel arrives and is received
    r = support.post(f"/api/v1/shipping/returns/{return_id}/receive/", {}, format="json")
    assert r.status_code == 200, r.json()
    received = r.json()
    # then the unit is back in stock and exactly its share was refunded
    assert received["status"] == "received"
    assert (received["goods_refund"], received["shipping_refund"],
            received["refund_amount"]) == ("25.00", "0.00", "25.00")
    assert levels(b.sku) == (48, 0, 48)
    view = order_get(order_id=order.order_id)
    assert (view.status, view.refunded_amount) == ("partially_returned", Decimal("25.00"))
    payment = Payment.objects.get(order_id=order.order_id)
    assert payment.amount_refunded == Decimal("25.00")
    assert_money_balances(order.order_id)
    # and receiving again changes nothing
    before = Event.objects.count()
    assert support.post(f"/api/v1/shipping/returns/{return_id}/receive/", {},
                        format="json").status_code == 200
    assert Event.objects.count() == before
    # and stock and read models agree with the events
    assert stock_drift() == []
    out = io.StringIO()
    call_command("inventory_verify", stdout=out)
    assert "0 drifts" in out.getvalue()
    out = io.StringIO()
    call_command("replay_events", "--verify", stdout=out)
    assert "0 differences" in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_a_full_return_refunds_shipping_and_a_written_off_line_is_not_restocked(
        carrier_sim, delivered, three_items, customer_api, support, settings):
    settings.SHIPPING_FREE_THRESHOLD = None
    settings.RETURN_REFUND_SHIPPING = "full_return"
    order = delivered(shipping_option={"quote_id": "q", "carrier": "ups",
                                       "service_level": "standard", "service_code": "02",
                                       "service_name": "UPS 2nd Day Air", "price": "9.90",
                                       "currency": "USD"})
    assert (order.shipping_total, order.total_amount) == (Decimal("9.90"), Decimal("120.90"))
    a, b, c = three_items
    r = customer_api.post(returns_url(order.order_id), {"reason": "not what I ordered",
                          "lines": [{"sku": a.sku, "quantity": 2}, {"sku": b.sku, "quantity": 3},
                                    {"sku": c.sku, "quantity": 4}]}, format="json")
    return_id = r.json()["return_id"]
    approved = support.post(f"/api/v1/shipping/returns/{return_id}/approve/", {},
                            format="json").json()
    assert approved["carrier"] == "fedex"  # the carrier that delivered (not the chosen one)
    r = support.post(f"/api/v1/shipping/returns/{return_id}/receive/", {"lines": [
        {"sku": a.sku, "quantity": 2}, {"sku": b.sku, "quantity": 3},
        {"sku": c.sku, "quantity": 4, "disposition": "write_off"}]}, format="json")
    assert r.status_code == 200, r.json()
    assert (r.json()["goods_refund"], r.json()["shipping_refund"]) == ("111.00", "9.90")
    view = order_get(order_id=order.order_id)
    assert (view.status, view.refunded_amount) == ("returned", Decimal("120.90"))
    assert (levels(a.sku), levels(b.sku), levels(c.sku)) == ((50, 0, 50), (50, 0, 50),
                                                           (46, 0, 46))
    assert_money_balances(order.order_id)
    assert stock_drift() == []


def test_the_return_window_closes(carrier_sim, delivered, three_items, customer_api, settings):
    order = delivered()
    settings.RETURN_WINDOW_DAYS = 0
    r = customer_api.post(returns_url(order.order_id), {
        "lines": [{"sku": three_items[0].sku, "quantity": 1}], "reason": "late"},
        format="json")
    assert (r.status_code, r.json()["error"]["code"]) == (409, "return_window_closed")
    assert not ReturnRequest.objects.exists()


def test_returns_are_checked_rejected_and_refused_to_others(
        carrier_sim, delivered, confirmed_order, three_items, customer_api, support,
        make_customer, make_staff):
    order = delivered()
    a = three_items[0]
    # more than was delivered, or an undelivered order, is refused
    r = customer_api.post(returns_url(order.order_id), {
        "lines": [{"sku": a.sku, "quantity": 3}], "reason": "x"}, format="json")
    assert r.status_code == 400
    pending = confirmed_order()
    r = customer_api.post(returns_url(pending.order_id), {
        "lines": [{"sku": a.sku, "quantity": 1}], "reason": "x"}, format="json")
    assert (r.status_code, r.json()["error"]["code"]) == (409, "invalid_transition")
    # another customer cannot see or ask; the customer and inventory staff cannot approve
    assert auth_client(make_customer()).post(returns_url(order.order_id), {
        "lines": [{"sku": a.sku, "quantity": 1}], "reason": "x"},
        format="json").status_code == 404
    return_id = customer_api.post(returns_url(order.order_id), {
        "lines": [{"sku": a.sku, "quantity": 1}], "reason": "x"}, format="json").json()[
        "return_id"]
    approve = f"/api/v1/shipping/returns/{return_id}/approve/"
    assert customer_api.post(approve, {}, format="json").status_code == 403
    assert auth_client(make_staff(roles.INVENTORY)).post(approve, {},
                                                         format="json").status_code == 403
    # support rejects it: the unit may be asked again
    r = support.post(f"/api/v1/shipping/returns/{return_id}/reject/", {"reason": "worn"},
                     format="json")
    assert (r.json()["status"], r.json()["decision_reason"]) == ("rejected", "worn")
    assert support.post(approve, {}, format="json").json()["error"]["code"] == \
        "invalid_return_state"
    assert customer_api.post(returns_url(order.order_id), {
        "lines": [{"sku": a.sku, "quantity": 2}], "reason": "x"},
        format="json").status_code == 201
    # and the queue lists what waits for a decision, oldest first
    queue = support.get("/api/v1/shipping/returns/", {"status": "requested"}).json()
    assert [row["status"] for row in queue["results"]] == ["requested"]
