import uuid

import pytest

from commerce.accounts import roles
from commerce.eventstore.models import Event
from inventory import events as ev
from inventory import services
from inventory.models import InventoryItem, Reservation
from tests.conftest import auth_client
from tests.factories import make_item
from tests.inventory.helpers import levels, write_counts

pytestmark = pytest.mark.django_db

ITEMS = "/api/v1/inventory/items/"
RESERVATIONS = "/api/v1/inventory/reservations/"


@pytest.fixture
def inv_staff(make_staff):
    return make_staff(roles.INVENTORY)


@pytest.fixture
def inv_api(inv_staff):
    return auth_client(inv_staff)


def item_payload(**overrides):
    data = {"sku": "API-1", "product_id": str(uuid.uuid4()), "name": "Api thing",
            "price": "12.50", "currency": "EUR", "total_quantity": 30,
            "low_stock_threshold": 3, "reorder_point": 8, "reorder_quantity": 40}
    data.update(overrides)
    return data


def test_create_item_then_read_it_and_the_summary(inv_api, inv_staff):
    # given inventory staff
    # when they create an item
    payload = item_payload()
    r = inv_api.post(ITEMS, payload, format="json")
    # then it is created with its quantities
    assert r.status_code == 201, r.json()
    body = r.json()
    assert body == {
        "sku": "API-1", "product_id": payload["product_id"], "name": "Api thing",
        "price": "12.50", "currency": "EUR", "active": True, "total_quantity": 30,
        "reserved_quantity": 0, "available_quantity": 30, "low_stock_threshold": 3,
        "reorder_point": 8, "reorder_quantity": 40, "low_stock": False,
        "weight_kg": None, "length_cm": None, "width_cm": None, "height_cm": None,
        "updated_at": body["updated_at"],
    }
    # and the events name the staff user as actor
    actors = set(Event.objects.filter(aggregate_id=ev.stock_item_id("API-1"))
                 .values_list("actor", flat=True))
    assert actors == {f"user:{inv_staff.pk}"}
    # and the detail shows total, reserved and available
    detail = inv_api.get(f"{ITEMS}API-1/").json()
    assert (detail["total_quantity"], detail["reserved_quantity"],
            detail["available_quantity"]) == (30, 0, 30)
    # and the summary counts it
    summary = inv_api.get("/api/v1/inventory/summary/").json()
    assert summary == {
        "items": 1, "active_items": 1, "out_of_stock": 0, "low_stock": 0, "needs_reorder": 0,
        "total_units": 30, "reserved_units": 0, "available_units": 30,
        "stock_value": {"EUR": "375.00"},
        "reservations": {"reserved": 0, "confirmed": 0, "partially_fulfilled": 0,
                         "fulfilled": 0, "released": 0, "expired": 0, "restocked": 0},
    }


@pytest.mark.parametrize(("overrides", "field"), [
    ({"price": "abc"}, "price"), ({"price": "-1"}, "price"), ({"price": "1.234"}, "price"),
    ({"price": "1" * 40}, "price"), ({"total_quantity": -1}, "total_quantity"),
    ({"total_quantity": "lots"}, "total_quantity"), ({"total_quantity": 10**20}, "total_quantity"),
    ({"sku": "has space"}, "sku"), ({"product_id": "has space"}, "product_id"),
    ({"currency": "euro"}, "currency"), ({"name": ""}, "name"),
])
def test_create_item_bad_input_is_400_with_field_errors_and_writes_nothing(
        inv_api, overrides, field):
    r = inv_api.post(ITEMS, item_payload(**overrides), format="json")
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "validation_error"
    assert list(r.json()["error"]["details"]) == [field]
    assert Event.objects.count() == 0


def test_create_item_duplicate_sku_is_400_and_writes_nothing(inv_api):
    make_item(sku="API-1")
    before = Event.objects.count()
    r = inv_api.post(ITEMS, item_payload(), format="json")
    assert r.status_code == 400
    assert r.json()["error"] == {"code": "duplicate_sku",
                                 "message": "An item with this sku already exists.",
                                 "details": {"sku": ["An item with this sku already exists."]}}
    assert Event.objects.count() == before


def test_malformed_json_is_400_not_500(inv_api):
    r = inv_api.generic("POST", ITEMS, "{not json", content_type="application/json")
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "parse_error"


def test_writes_need_inventory_staff(customer_api, make_staff):
    make_item(sku="PERM")
    support_api = auth_client(make_staff(roles.SUPPORT))
    for client in (customer_api, support_api):
        assert client.post(ITEMS, item_payload(), format="json").status_code == 403
        assert client.patch(f"{ITEMS}PERM/", {"price": "1.00"}, format="json").status_code == 403
        assert client.post(f"{ITEMS}PERM/receive/", {"quantity": 1},
                           format="json").status_code == 403
        assert client.post(RESERVATIONS, {"order_id": str(uuid.uuid4()), "lines": [
            {"sku": "PERM", "quantity": 1}]}, format="json").status_code == 403
        assert client.get("/api/v1/inventory/low-stock/").status_code == 403
    assert levels("PERM") == (100, 0, 100)


def test_anonymous_is_401(api):
    r = api.get(ITEMS)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "not_authenticated"


def test_stock_is_staff_only_customers_browse_the_catalog(customer_api):
    make_item(sku="PUB-1", price="5.00", quantity=2)
    for url in (ITEMS, f"{ITEMS}PUB-1/"):
        r = customer_api.get(url)
        assert (r.status_code, r.json()["error"]["code"]) == (403, "permission_denied")


def test_item_list_filters_and_query_count(inv_api, django_assert_max_num_queries):
    make_item(sku="F-LOW", quantity=2)
    make_item(sku="F-OK", quantity=50)
    make_item(sku="F-OFF", quantity=50, active=False)
    with django_assert_max_num_queries(6):
        body = inv_api.get(ITEMS, {"low_stock": "true"}).json()
    assert [x["sku"] for x in body["results"]] == ["F-LOW"]
    assert [x["sku"] for x in inv_api.get(ITEMS, {"active": "false"}).json()["results"]] == [
        "F-OFF"]
    assert [x["sku"] for x in inv_api.get(ITEMS, {"q": "f-o"}).json()["results"]] == [
        "F-OFF", "F-OK"]
    assert inv_api.get(ITEMS, {"product_id": "x" * 256}).status_code == 400


def test_patch_item_changes_price_and_settings(inv_api):
    make_item(sku="P-1", price="1.00")
    r = inv_api.patch(f"{ITEMS}P-1/", {"price": "2.25", "reorder_point": 3}, format="json")
    assert r.status_code == 200
    assert (r.json()["price"], r.json()["reorder_point"]) == ("2.25", 3)
    assert inv_api.patch(f"{ITEMS}NOPE/", {"price": "2.25"}, format="json").status_code == 404
    assert inv_api.patch(f"{ITEMS}P-1/", {"price": "x"}, format="json").status_code == 400


def test_receive_and_adjust(inv_api):
    make_item(sku="RA", quantity=5)
    r = inv_api.post(f"{ITEMS}RA/receive/", {"quantity": 7}, format="json")
    assert (r.status_code, r.json()["total_quantity"]) == (200, 12)
    r = inv_api.post(f"{ITEMS}RA/adjust/", {"delta": -2, "reason": "broken"}, format="json")
    assert (r.status_code, r.json()["total_quantity"]) == (200, 10)
    before = write_counts()
    for path, body in [("receive", {"quantity": 0}), ("receive", {"quantity": -4}),
                       ("receive", {"quantity": "x"}), ("adjust", {"delta": 0, "reason": "x"}),
                       ("adjust", {"delta": 1}), ("adjust", {"delta": -100, "reason": "x"})]:
        r = inv_api.post(f"{ITEMS}RA/{path}/", body, format="json")
        assert r.status_code in (400, 409), (path, body, r.json())
    assert write_counts() == before
    assert inv_api.post(f"{ITEMS}NOPE/receive/", {"quantity": 1},
                        format="json").status_code == 404
    movements = inv_api.get(f"{ITEMS}RA/movements/").json()["results"]
    assert [(m["kind"], m["total_delta"], m["reason"]) for m in movements] == [
        ("adjusted", -2, "broken"), ("received", 7, ""), ("received", 5, "initial stock")]
    assert inv_api.get(f"{ITEMS}NOPE/movements/").status_code == 404


def test_low_stock_and_reorder_lists(inv_api):
    # given items at different levels
    make_item(sku="L-EMPTY", quantity=0)
    make_item(sku="L-LOW", quantity=4)         # <= threshold 5
    make_item(sku="L-REORDER", quantity=9)     # > threshold, <= reorder point 10
    make_item(sku="L-FINE", quantity=11)
    make_item(sku="L-DEAD", quantity=0, active=False)
    # when listing low stock, then items at or below their threshold come emptiest first
    low = inv_api.get("/api/v1/inventory/low-stock/").json()["results"]
    assert [x["sku"] for x in low] == ["L-DEAD", "L-EMPTY", "L-LOW"]
    # when listing reorders, then active items at or below the reorder point, with a quantity
    reorder = inv_api.get("/api/v1/inventory/reorder/").json()["results"]
    assert [(x["sku"], x["available_quantity"], x["suggested_quantity"]) for x in reorder] == [
        ("L-EMPTY", 0, 50), ("L-LOW", 4, 50), ("L-REORDER", 9, 50)]


def test_reservation_api_flow(inv_api):
    make_item(sku="R-1", quantity=10)
    order_id = str(uuid.uuid4())
    # reserve → 201
    r = inv_api.post(RESERVATIONS, {"order_id": order_id, "lines": [
        {"sku": "R-1", "quantity": 4}], "ttl_seconds": 600}, format="json")
    assert r.status_code == 201, r.json()
    rid = r.json()["id"]
    assert (r.json()["status"], r.json()["lines"]) == ("reserved", [{"sku": "R-1",
                                                                      "quantity": 4}])
    # the same order again → 200 with the same reservation, nothing held twice
    again = inv_api.post(RESERVATIONS, {"order_id": order_id, "lines": [
        {"sku": "R-1", "quantity": 4}]}, format="json")
    assert (again.status_code, again.json()["id"]) == (200, rid)
    assert levels("R-1") == (10, 4, 6)
    assert inv_api.get(f"{RESERVATIONS}{rid}/").json()["status"] == "reserved"
    # confirm, fulfill
    assert inv_api.post(f"{RESERVATIONS}{rid}/confirm/").json()["status"] == "confirmed"
    assert inv_api.post(f"{RESERVATIONS}{rid}/fulfill/").json()["status"] == "fulfilled"
    assert levels("R-1") == (6, 0, 6)
    # release after fulfil → 409 invalid_reservation_state
    r = inv_api.post(f"{RESERVATIONS}{rid}/release/", {"reason": "late"}, format="json")
    assert (r.status_code, r.json()["error"]["code"]) == (409, "invalid_reservation_state")
    # list with status filter
    listing = inv_api.get(RESERVATIONS, {"status": "fulfilled"}).json()["results"]
    assert [x["id"] for x in listing] == [rid]
    assert inv_api.get(RESERVATIONS, {"status": "bogus"}).status_code == 400


def test_staff_cannot_release_the_confirmed_reservation_of_a_paid_order(inv_api):
    # given the last unit, reserved and confirmed for a paid order
    make_item(sku="PAID-1", quantity=1)
    paid_order = str(uuid.uuid4())
    rid = inv_api.post(RESERVATIONS, {"order_id": paid_order, "lines": [
        {"sku": "PAID-1", "quantity": 1}]}, format="json").json()["id"]
    inv_api.post(f"{RESERVATIONS}{rid}/confirm/")
    before = write_counts()
    # when inventory staff release it by hand
    r = inv_api.post(f"{RESERVATIONS}{rid}/release/", {"reason": "oops"}, format="json")
    # then it is refused and the unit stays held
    assert (r.status_code, r.json()["error"]["code"]) == (409, "invalid_reservation_state")
    assert r.json()["error"]["details"] == {"status": "confirmed", "order_id": paid_order}
    assert write_counts() == before and levels("PAID-1") == (1, 1, 0)
    # so no second order can take the same unit
    r = inv_api.post(RESERVATIONS, {"order_id": str(uuid.uuid4()), "lines": [
        {"sku": "PAID-1", "quantity": 1}]}, format="json")
    assert (r.status_code, r.json()["error"]["code"]) == (409, "insufficient_stock")


def test_reserve_insufficient_stock_is_409_naming_short_lines(inv_api):
    make_item(sku="S-1", quantity=1)
    make_item(sku="S-2", quantity=5)
    before = write_counts()
    r = inv_api.post(RESERVATIONS, {"order_id": str(uuid.uuid4()), "lines": [
        {"sku": "S-1", "quantity": 2}, {"sku": "S-2", "quantity": 5}]}, format="json")
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "insufficient_stock"
    assert r.json()["error"]["details"] == {"lines": [
        {"sku": "S-1", "requested": 2, "available": 1}]}
    assert write_counts() == before


@pytest.mark.parametrize("body", [
    {"order_id": "x", "lines": [{"sku": "B-1", "quantity": 1}]},
    {"order_id": None, "lines": [{"sku": "B-1", "quantity": 1}]},
    {"lines": [{"sku": "B-1", "quantity": 1}]},
    {"order_id": "00000000-0000-0000-0000-000000000001", "lines": []},
    {"order_id": "00000000-0000-0000-0000-000000000001", "lines": "B-1"},
    {"order_id": "00000000-0000-0000-0000-000000000001", "lines": [{"sku": "B-1",
                                                                     "quantity": 0}]},
    {"order_id": "00000000-0000-0000-0000-000000000001", "lines": [{"sku": "B-1",
                                                                     "quantity": -1}]},
    {"order_id": "00000000-0000-0000-0000-000000000001", "lines": [{"sku": "B-1",
                                                                     "quantity": 10**30}]},
    {"order_id": "00000000-0000-0000-0000-000000000001", "lines": [
        {"sku": "B-1", "quantity": 1}, {"sku": "B-1", "quantity": 1}]},
    {"order_id": "00000000-0000-0000-0000-000000000001", "lines": [{"sku": "B-1",
                                                                     "quantity": 1}],
     "ttl_seconds": 0},
])
def test_reserve_bad_input_is_400_and_writes_nothing(inv_api, body):
    make_item(sku="B-1")
    before = write_counts()
    r = inv_api.post(RESERVATIONS, body, format="json")
    assert r.status_code == 400, r.json()
    assert r.json()["error"]["code"] == "validation_error"
    assert r.json()["error"]["details"]
    assert write_counts() == before


def test_reserve_unknown_sku_is_400_unknown_sku(inv_api):
    before = write_counts()
    r = inv_api.post(RESERVATIONS, {"order_id": str(uuid.uuid4()), "lines": [
        {"sku": "GHOST", "quantity": 1}]}, format="json")
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "unknown_sku"
    assert r.json()["error"]["details"]["skus"] == ["GHOST"]
    assert write_counts() == before


def test_reservation_actions_on_unknown_id_are_404(inv_api):
    r = inv_api.post(f"{RESERVATIONS}{uuid.uuid4()}/confirm/")
    assert (r.status_code, r.json()["error"]["code"]) == (404, "reservation_not_found")
    assert inv_api.post(f"{RESERVATIONS}not-a-uuid/confirm/").status_code == 404


def test_restock_endpoint(inv_api):
    make_item(sku="RST", quantity=3)
    reservation = services.stock_reserve(order_id=uuid.uuid4(),
                                         lines=[{"sku": "RST", "quantity": 3}])
    services.reservation_fulfill(order_id=reservation.order_id)
    r = inv_api.post(f"{RESERVATIONS}{reservation.id}/restock/", {"reason": "returned"},
                     format="json")
    assert (r.status_code, r.json()["status"], r.json()["reason"]) == (200, "restocked",
                                                                       "returned")
    assert levels("RST") == (3, 0, 3)
    assert Reservation.objects.get(id=reservation.id).status == "restocked"
    assert InventoryItem.objects.count() == 1


def test_idempotency_key_on_create_replays_and_refuses_another_body(inv_api):
    # given a create with an Idempotency-Key
    payload = item_payload(sku="IK-1")
    first = inv_api.post(ITEMS, payload, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 201
    events = Event.objects.count()
    # when it is retried, then the first answer is replayed and nothing is written
    again = inv_api.post(ITEMS, payload, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert (again.status_code, again.json()) == (201, first.json())
    assert again["Idempotent-Replayed"] == "true"
    assert Event.objects.count() == events
    # when the key is reused for another body, then 422
    other = inv_api.post(ITEMS, item_payload(sku="IK-2"), format="json",
                         HTTP_IDEMPOTENCY_KEY="k-1")
    assert (other.status_code, other.json()["error"]["code"]) == (422, "idempotency_key_reused")
    assert Event.objects.count() == events
