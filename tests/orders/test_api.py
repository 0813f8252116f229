import json
import uuid

import pytest

from commerce.core.models import IdempotencyRecord
from commerce.eventstore.models import Event
from orders import services
from orders.models import OrderView
from tests.conftest import auth_client
from tests.factories import make_item
from tests.orders.conftest import ADDRESS, snapshot

URL = "/api/v1/orders/"


def body(items, **kw):
    return {"lines": [{"sku": items[0].sku, "quantity": 2}, {"sku": items[1].sku, "quantity": 3}],
            "shipping_address": ADDRESS, **kw}


# --- create ------------------------------------------------------------------------------
def test_create_prices_from_catalog_not_client(customer_api, customer, items):
    # given a client that sends its own price
    payload = body(items, payment_method="pm_card_visa")
    payload["lines"][0]["unit_price"] = "0.01"
    # when it places the order
    r = customer_api.post(URL, payload, format="json")
    # then the catalog prices are used
    assert r.status_code == 201, r.json()
    data = r.json()
    assert data["status"] == "placed"
    assert data["customer_id"] == str(customer.id)
    assert data["subtotal"] == "27.50" and data["total"] == "27.50"
    assert (data["shipping"], data["discount"], data["tax"]) == ("0.00", "0.00", "0.00")
    assert [(ln["sku"], ln["unit_price"], ln["quantity"], ln["line_total"])
            for ln in data["lines"]] == [(items[0].sku, "10.00", 2, "20.00"),
                                         (items[1].sku, "2.50", 3, "7.50")]
    assert data["version"] == 1 and r["ETag"] == '"1"'
    assert data["allowed_actions"] == ["update", "cancel"]
    assert r["Location"] == f"{URL}{data['order_id']}/"
    assert OrderView.objects.get().payment_method == "pm_card_visa"


def test_create_idempotent_same_key_same_body(customer_api, items):
    # given a first request with a key
    first = customer_api.post(URL, body(items), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    # when the same request is retried
    second = customer_api.post(URL, body(items), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    # then one order exists and the original response is replayed
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert OrderView.objects.count() == 1


def test_create_same_key_other_body_is_422(customer_api, items):
    customer_api.post(URL, body(items), format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    before = snapshot()
    r = customer_api.post(URL, body(items, notes="other"), format="json",
                          HTTP_IDEMPOTENCY_KEY="k-2")
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "idempotency_key_reused"
    assert snapshot() == before


def test_same_key_for_two_customers_makes_two_orders(customer_api, make_customer, items):
    other = auth_client(make_customer())
    assert customer_api.post(URL, body(items), format="json",
                             HTTP_IDEMPOTENCY_KEY="shared").status_code == 201
    assert other.post(URL, body(items), format="json",
                      HTTP_IDEMPOTENCY_KEY="shared").status_code == 201
    assert OrderView.objects.count() == 2


@pytest.mark.parametrize("mutate, field", [
    (lambda b, items: b.update(lines=[]), "lines"),
    (lambda b, items: b.update(lines=[{"sku": items[0].sku, "quantity": 0}]), "lines"),
    (lambda b, items: b.update(lines=[{"sku": items[0].sku, "quantity": -3}]), "lines"),
    (lambda b, items: b.update(lines=[{"sku": items[0].sku, "quantity": 10**30}]), "lines"),
    (lambda b, items: b.update(lines=[{"sku": items[0].sku, "quantity": "two"}]), "lines"),
    (lambda b, items: b.update(lines=[{"sku": items[0].sku, "quantity": 1001}]), "lines"),
    (lambda b, items: b.update(lines="abc"), "lines"),
    (lambda b, items: b.update(lines=[42]), "lines"),
    (lambda b, items: b.pop("shipping_address"), "shipping_address"),
    (lambda b, items: b.update(shipping_address="Baker Street"), "shipping_address"),
    (lambda b, items: b.update(shipping_address={"name": "X"}), "shipping_address"),
    (lambda b, items: b.update(shipping_address={**ADDRESS, "country": "Germany"}),
     "shipping_address"),
    (lambda b, items: b.update(shipping_address={**ADDRESS, "zip": "1"}), "shipping_address"),
    (lambda b, items: b.update(notes="x" * 2001), "notes"),
])
def test_create_bad_input_is_400_with_field_errors_and_writes_nothing(
        customer_api, items, mutate, field):
    # given a malformed body
    payload = body(items)
    mutate(payload, items)
    before = snapshot()
    # when it is posted
    r = customer_api.post(URL, payload, format="json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))
    # then 400 names the field, and nothing is written (no event, view, idempotency record)
    assert r.status_code == 400, r.json()
    assert r.json()["error"]["code"] == "validation_error"
    assert field in r.json()["error"]["details"]
    assert snapshot() == before
    assert IdempotencyRecord.objects.count() == 0


def test_create_unknown_sku_is_400_unknown_sku(customer_api, items):
    payload = body(items)
    payload["lines"][1]["sku"] = "NO-SUCH-SKU"
    r = customer_api.post(URL, payload, format="json")
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "unknown_sku"
    assert r.json()["error"]["details"] == {"lines": [{}, {"sku": ["Unknown sku."]}]}
    assert Event.objects.filter(aggregate_type="Order").count() == 0


def test_create_inactive_sku_is_400(customer_api, items):
    from inventory.services import product_update

    product_update(sku=items[1].sku, active=False)
    r = customer_api.post(URL, body(items), format="json")
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "inactive_sku"
    assert OrderView.objects.count() == 0


def test_create_non_json_body_is_400(customer_api, items):
    r = customer_api.post(URL, data="{not json", content_type="application/json")
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "parse_error"
    assert OrderView.objects.count() == 0


def test_create_json_array_body_is_400(customer_api, items):
    r = customer_api.post(URL, data=json.dumps([1, 2]), content_type="application/json")
    assert r.status_code == 400
    assert OrderView.objects.count() == 0


def test_unauthenticated_gets_401(api, place):
    order = place()
    for method, url in [("get", URL), ("post", URL), ("get", f"{URL}{order.order_id}/"),
                        ("patch", f"{URL}{order.order_id}/"),
                        ("delete", f"{URL}{order.order_id}/"),
                        ("post", f"{URL}{order.order_id}/cancel/"),
                        ("get", f"{URL}{order.order_id}/events/")]:
        r = getattr(api, method)(url, {}, format="json")
        assert r.status_code == 401, (method, url)
        assert r.json()["error"]["code"] == "not_authenticated"


# --- read ---------------------------------------------------------------------------------
def test_customer_cannot_touch_another_customers_order(place, make_customer, items):
    # given an order of someone else
    order = place()
    intruder = auth_client(make_customer())
    before = snapshot()
    url = f"{URL}{order.order_id}/"
    # when the intruder reads, changes, cancels, archives or lists it
    responses = [
        intruder.get(url),
        intruder.patch(url, {"notes": "mine"}, format="json", HTTP_IF_MATCH='"1"'),
        intruder.post(f"{url}cancel/", {"reason": "x"}, format="json"),
        intruder.delete(url),
        intruder.get(f"{url}events/"),
    ]
    # then every answer is 404 (ids cannot be probed) and nothing changed
    assert [r.status_code for r in responses] == [404] * 5
    assert {r.json()["error"]["code"] for r in responses} == {"not_found"}
    assert intruder.get(URL).json()["count"] == 0
    assert snapshot() == before


def test_unknown_and_malformed_ids_are_404(customer_api):
    assert customer_api.get(f"{URL}{uuid.uuid4()}/").status_code == 404
    assert customer_api.get(f"{URL}not-a-uuid/").status_code == 404


def test_detail_has_lines_status_version_and_actions(customer_api, place):
    order = place(notes="ring twice")
    r = customer_api.get(f"{URL}{order.order_id}/")
    assert r.status_code == 200
    data = r.json()
    assert data["status"] == "placed" and data["version"] == 2 and r["ETag"] == '"2"'
    assert data["notes"] == "ring twice"
    assert len(data["lines"]) == 2
    assert data["allowed_actions"] == ["update", "cancel"]
    assert data["shipping_address"] == ADDRESS


def test_staff_sees_all_orders_and_staff_actions(staff_api, place, make_customer):
    place()
    place(who=make_customer())
    r = staff_api.get(URL)
    assert r.json()["count"] == 2
    order_id = r.json()["results"][0]["order_id"]
    assert staff_api.get(f"{URL}{order_id}/").json()["allowed_actions"] == [
        "update", "cancel"]


def test_list_is_newest_first_filtered_and_paginated(customer_api, customer, place, items):
    # given three orders, one reserved
    orders = [place() for _ in range(3)]
    services.order_mark_reserved(order_id=orders[1].order_id, reservation_id=uuid.uuid4())
    # when listing
    r = customer_api.get(URL, {"page_size": 2})
    data = r.json()
    # then newest first, two per page
    assert data["count"] == 3
    assert [o["order_id"] for o in data["results"]] == [str(orders[2].order_id),
                                                       str(orders[1].order_id)]
    assert data["next"] is not None
    assert [o["order_id"] for o in customer_api.get(URL, {"status": "reserved"}).json()[
        "results"]] == [str(orders[1].order_id)]
    today = orders[0].created_at.date().isoformat()
    assert customer_api.get(URL, {"created_from": today, "created_to": today}).json()[
        "count"] == 3
    assert customer_api.get(URL, {"created_to": orders[0].created_at.isoformat()}).json()[
        "count"] == 0
    assert customer_api.get(URL, {"status": "nope"}).status_code == 400
    assert customer_api.get(URL, {"created_from": "yesterday"}).status_code == 400


def test_list_query_count_is_constant(customer_api, place, django_assert_num_queries):
    # given 1 order, then 6 orders: the same number of queries
    place()
    with django_assert_num_queries(3):  # user (then kept: commerce/api/authentication.py),
        assert customer_api.get(URL).status_code == 200  # count, page
    for _ in range(5):
        place()
    with django_assert_num_queries(2):
        assert len(customer_api.get(URL).json()["results"]) == 6


def test_detail_query_count_is_constant_in_lines(customer_api, place,
                                                 django_assert_num_queries):
    small = place()
    many_items = [make_item(price="1.00") for _ in range(8)]
    big = place(lines=[{"sku": i.sku, "quantity": 1} for i in many_items])
    for order, queries in ((small, 3), (big, 2)):  # user (then kept), order, lines
        with django_assert_num_queries(queries):
            assert customer_api.get(f"{URL}{order.order_id}/").status_code == 200


# --- update -------------------------------------------------------------------------------
def test_patch_with_if_match_changes_address_and_notes(customer_api, place):
    order = place()
    new_address = {**ADDRESS, "line1": "1 New Road"}
    r = customer_api.patch(f"{URL}{order.order_id}/",
                           {"shipping_address": new_address, "notes": "leave at door"},
                           format="json", HTTP_IF_MATCH='"1"')
    assert r.status_code == 200, r.json()
    assert r.json()["shipping_address"]["line1"] == "1 New Road"
    assert r.json()["notes"] == "leave at door"
    assert r.json()["version"] == 3 and r["ETag"] == '"3"'
    assert list(Event.objects.filter(aggregate_id=order.order_id).order_by("version")
                .values_list("event_type", flat=True)) == [
        "OrderPlaced", "ShippingAddressChanged", "OrderNotesChanged"]


def test_patch_stale_if_match_is_412_and_writes_nothing(customer_api, place):
    order = place(notes="a")  # version 2
    before = snapshot()
    r = customer_api.patch(f"{URL}{order.order_id}/", {"notes": "b"}, format="json",
                           HTTP_IF_MATCH='"1"')
    assert r.status_code == 412
    assert r.json()["error"]["code"] == "precondition_failed"
    assert r.json()["error"]["details"] == {"expected_version": 1, "current_version": 2}
    assert snapshot() == before


def test_patch_without_if_match_is_428(customer_api, place):
    order = place()
    r = customer_api.patch(f"{URL}{order.order_id}/", {"notes": "b"}, format="json")
    assert r.status_code == 428
    assert r.json()["error"]["code"] == "precondition_required"


def test_patch_bad_input_is_400(customer_api, place):
    order = place()
    before = snapshot()
    url = f"{URL}{order.order_id}/"
    assert customer_api.patch(url, {}, format="json", HTTP_IF_MATCH='"1"').status_code == 400
    r = customer_api.patch(url, {"shipping_address": {"city": ""}}, format="json",
                           HTTP_IF_MATCH='"1"')
    assert r.status_code == 400 and "shipping_address" in r.json()["error"]["details"]
    assert snapshot() == before


def test_patch_after_shipping_window_is_409(customer_api, place):
    order = place()
    services.order_fail(order_id=order.order_id, reason="no stock", code="insufficient_stock")
    before = snapshot()
    r = customer_api.patch(f"{URL}{order.order_id}/", {"notes": "b"}, format="json",
                           HTTP_IF_MATCH='"3"')
    assert r.status_code == 409
    err = r.json()["error"]
    assert err["code"] == "invalid_transition"
    assert err["details"]["status"] == "failed"
    # what the customer can do instead, in the API's words: nothing
    assert (err["details"]["action"], err["details"]["allowed_actions"]) == ("update", [])
    assert snapshot() == before


# --- cancel / archive / events ------------------------------------------------------------
def test_cancel_records_request_and_answers_202(customer_api, place):
    order = place()
    r = customer_api.post(f"{URL}{order.order_id}/cancel/", {"reason": "changed my mind"},
                          format="json")
    assert r.status_code == 202
    assert r.json()["status"] == "placed"
    assert r.json()["cancellation_pending"] is True
    assert r.json()["allowed_actions"] == ["update"]
    # a second request while one is pending is refused
    again = customer_api.post(f"{URL}{order.order_id}/cancel/", {"reason": "again"},
                              format="json")
    assert again.status_code == 409
    assert again.json()["error"]["details"]["cancellation_pending"] is True
    assert Event.objects.filter(event_type="CancellationRequested").count() == 1


def test_cancel_requires_reason(customer_api, place):
    order = place()
    r = customer_api.post(f"{URL}{order.order_id}/cancel/", {}, format="json")
    assert r.status_code == 400 and "reason" in r.json()["error"]["details"]


def test_cancel_terminal_order_is_409(customer_api, place):
    order = place()
    services.order_cancel(order_id=order.order_id, reason="saga")
    before = snapshot()
    r = customer_api.post(f"{URL}{order.order_id}/cancel/", {"reason": "x"}, format="json")
    assert r.status_code == 409
    assert r.json()["error"]["details"]["status"] == "cancelled"
    assert snapshot() == before


def test_delete_archives_terminal_order_for_staff_only(customer_api, staff_api, place):
    order = place()
    url = f"{URL}{order.order_id}/"
    # a non-terminal order cannot be archived
    assert staff_api.delete(url).status_code == 409
    services.order_cancel(order_id=order.order_id, reason="saga")
    # the owner is not staff
    r = customer_api.delete(url)
    assert r.status_code == 403 and r.json()["error"]["code"] == "permission_denied"
    # staff archive it: hidden from default listings, still readable, events kept
    assert staff_api.delete(url).status_code == 204
    assert customer_api.get(URL).json()["count"] == 0
    assert customer_api.get(URL, {"include_archived": "true"}).json()["count"] == 1
    assert customer_api.get(url).json()["archived"] is True
    assert Event.objects.filter(aggregate_id=order.order_id).count() == 3


def test_events_history(customer_api, staff_api, staff, place):
    order = place()
    staff_api.post(f"{URL}{order.order_id}/cancel/", {"reason": "fraud check"}, format="json")
    r = customer_api.get(f"{URL}{order.order_id}/events/")
    assert r.status_code == 200
    assert [(e["version"], e["event_type"]) for e in r.json()["results"]] == [
        (1, "OrderPlaced"), (2, "CancellationRequested")]
    assert r.json()["results"][1]["metadata"] == {}
    staff_view = staff_api.get(f"{URL}{order.order_id}/events/").json()["results"]
    assert staff_view[1]["metadata"]["actor"] == f"user:{staff.id}"
    assert staff_view[1]["data"] == {"reason": "fraud check"}


def test_patch_malformed_if_match_is_412(customer_api, place):
    order = place()
    r = customer_api.patch(f"{URL}{order.order_id}/", {"notes": "b"}, format="json",
                           HTTP_IF_MATCH="banana")
    assert r.status_code == 412
    assert OrderView.objects.get().notes == ""


def test_staff_can_filter_by_customer(staff_api, place, make_customer, customer):
    mine = place()
    place(who=make_customer())
    r = staff_api.get(URL, {"customer_id": str(customer.id)})
    assert [o["order_id"] for o in r.json()["results"]] == [str(mine.order_id)]


def test_customer_id_filter_cannot_widen_a_customers_view(customer_api, place,
                                                          make_customer):
    other = make_customer()
    place(who=other)
    r = customer_api.get(URL, {"customer_id": str(other.id)})
    assert r.json()["count"] == 0
