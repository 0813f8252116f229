"""Staff operations in the API (support role): ship, deliver, complete, reject or approve a
cancellation, refund part of an order; and `allowed_actions` naming what this caller can
call."""

import pytest

from commerce.accounts import roles
from commerce.eventstore.models import Event
from orders import services
from orders.selectors import order_get
from tests.conftest import auth_client
from tests.orders.conftest import advance, snapshot

pytestmark = pytest.mark.django_db

URL = "/api/v1/orders/"


@pytest.fixture
def support(make_staff):
    return auth_client(make_staff(roles.SUPPORT))


def events(order_id) -> list[str]:
    return list(Event.objects.filter(aggregate_id=order_id).order_by("version")
                .values_list("event_type", flat=True))


def test_support_ships_delivers_and_completes(support, place, no_policies):
    order = advance(place(), "confirmed")
    url = f"{URL}{order.order_id}/"
    assert support.get(url).json()["allowed_actions"] == ["update", "cancel", "ship", "refund",
                                                          "create_shipment"]
    r = support.post(f"{url}ship/", {"carrier": "DHL", "tracking_number": "JD01"},
                     format="json")
    assert r.status_code == 200, r.json()
    assert (r.json()["status"], r.json()["carrier"], r.json()["tracking_number"]) == (
        "shipped", "DHL", "JD01")
    assert r.json()["allowed_actions"] == ["cancel", "deliver", "refund"]
    assert support.post(f"{url}deliver/").json()["status"] == "delivered"
    done = support.post(f"{url}complete/")
    assert (done.status_code, done.json()["status"]) == (200, "completed")
    # a retry answers the same order and records nothing more
    before = snapshot(order.order_id)
    assert support.post(f"{url}complete/").json()["status"] == "completed"
    assert snapshot(order.order_id) == before
    assert events(order.order_id)[-4:] == ["ShipmentCreated", "OrderShipped", "OrderDelivered",
                                           "OrderCompleted"]


def test_ship_needs_carrier_and_tracking_and_a_confirmed_order(support, place, no_policies):
    order = place()
    url = f"{URL}{order.order_id}/ship/"
    r = support.post(url, {}, format="json")
    assert r.status_code == 400
    assert set(r.json()["error"]["details"]) == {"carrier", "tracking_number"}
    before = snapshot(order.order_id)
    r = support.post(url, {"carrier": "DHL", "tracking_number": "1"}, format="json")
    err = r.json()["error"]
    assert (r.status_code, err["code"], err["details"]["action"]) == (
        409, "invalid_transition", "ship")
    assert err["details"]["allowed_actions"] == ["update", "cancel"]
    assert snapshot(order.order_id) == before


@pytest.mark.parametrize("who", ["customer", "inventory"])
def test_only_support_may_act(who, customer_api, make_staff, place, no_policies):
    order = advance(place(), "confirmed")
    client = customer_api if who == "customer" else auth_client(make_staff(roles.INVENTORY))
    before = snapshot(order.order_id)
    url = f"{URL}{order.order_id}/"
    for path, body in (("ship/", {"carrier": "D", "tracking_number": "1"}), ("deliver/", {}),
                       ("complete/", {}), ("refunds/", {"amount": "1.00", "reason": "x"}),
                       ("cancel/reject/", {"reason": "no"})):
        r = client.post(f"{url}{path}", body, format="json", HTTP_IDEMPOTENCY_KEY="k")
        assert (r.status_code, r.json()["error"]["code"]) == (403, "permission_denied"), path
    assert snapshot(order.order_id) == before


def test_customers_see_only_their_actions(customer_api, place, no_policies):
    order = advance(place(), "confirmed")
    assert customer_api.get(f"{URL}{order.order_id}/").json()["allowed_actions"] == [
        "update", "cancel"]


def test_partial_refunds_idempotent_by_key_never_beyond_the_capture(
        support, place, no_policies):
    order = advance(place(), "delivered")  # 27.50 captured
    url = f"{URL}{order.order_id}/refunds/"
    body = {"amount": "10.00", "reason": "scratched"}
    # a refund needs a key
    r = support.post(url, body, format="json")
    assert (r.status_code, r.json()["error"]["code"]) == (400, "validation_error")
    # when support refunds 10.00 with a key, twice (a retry)
    first = support.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="r-1")
    again = support.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="r-1")
    # then one refund is requested (the saga settles it), answered 202 both times
    assert (first.status_code, again.status_code) == (202, 202)
    assert first.json()["refund_id"] == again.json()["refund_id"]
    assert (first.json()["amount"], first.json()["status"]) == ("10.00", "requested")
    assert events(order.order_id).count("RefundRequested") == 1
    # and a refund beyond captured − refunded − pending is refused
    r = support.post(url, {"amount": "17.51", "reason": "too much"}, format="json",
                     HTTP_IDEMPOTENCY_KEY="r-2")
    assert (r.status_code, r.json()["error"]["code"]) == (409, "refund_exceeds_refundable")
    ok = support.post(url, {"amount": "17.50", "reason": "rest"}, format="json",
                      HTTP_IDEMPOTENCY_KEY="r-3")
    assert ok.status_code == 202
    # the same key with another body is 422
    r = support.post(url, {"amount": "1.00", "reason": "x"}, format="json",
                     HTTP_IDEMPOTENCY_KEY="r-1")
    assert r.status_code == 422
    assert events(order.order_id).count("RefundRequested") == 2


def test_refund_of_an_order_without_capture_is_409(support, place, no_policies):
    order = place()
    r = support.post(f"{URL}{order.order_id}/refunds/", {"amount": "1.00", "reason": "x"},
                     format="json", HTTP_IDEMPOTENCY_KEY="r")
    assert (r.status_code, r.json()["error"]["code"]) == (409, "invalid_transition")


def test_reject_a_cancellation_waiting_for_approval(support, customer_api, place,
                                                    django_capture_on_commit_callbacks):
    # given a shipped order whose cancellation waits for staff (goods already left)
    with django_capture_on_commit_callbacks(execute=True):
        order = place(payment_method="pm_card_visa")
    services.order_ship(order_id=order.order_id, carrier="UPS", tracking_number="1Z")
    url = f"{URL}{order.order_id}/"
    with django_capture_on_commit_callbacks(execute=True):
        customer_api.post(f"{url}cancel/", {"reason": "too late?"}, format="json")
    assert support.get(url).json()["allowed_actions"] == [
        "deliver", "approve_cancellation", "reject_cancellation"]
    # when support rejects it
    with django_capture_on_commit_callbacks(execute=True):
        r = support.post(f"{url}cancel/reject/", {"reason": "already shipped"}, format="json")
    # then the order keeps its status and no longer has a pending cancellation
    assert r.status_code == 200, r.json()
    view = order_get(order_id=order.order_id)
    assert (view.status, view.cancellation_pending) == ("shipped", False)
    assert "CancellationRejected" in events(order.order_id)
    # and there is nothing left to reject
    again = support.post(f"{url}cancel/reject/", {"reason": "again"}, format="json")
    assert again.status_code == 409
