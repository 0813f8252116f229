import pytest
from django.core.cache import caches

from inventory.services import product_update
from orders.services import order_place
from tests.cart.conftest import stored, stream_events
from tests.conftest import auth_client

pytestmark = pytest.mark.django_db

CART = "/api/v1/cart/"
ITEMS = "/api/v1/cart/items/"
MERGE = "/api/v1/cart/merge/"
ADDRESS = {"name": "Ada Lovelace", "line1": "12 St James's Square", "city": "London",
           "postal_code": "SW1Y 4JH", "country": "GB"}


def item_url(sku: str) -> str:
    return f"{ITEMS}{sku}/"


def test_customer_add_get_patch_delete_clear(customer_api, item):
    a, b = item(price="2.50").sku, item(price="4.00").sku
    # add
    r = customer_api.post(ITEMS, {"sku": a, "quantity": 2}, format="json")
    assert r.status_code == 201, r.data
    assert r.data["token"] is None and r.data["guest"] is False
    assert [(ln["sku"], ln["quantity"], ln["unit_price"]) for ln in r.data["lines"]] == [
        (a, 2, "2.50")]
    # same sku again adds
    customer_api.post(ITEMS, {"sku": a, "quantity": 1}, format="json")
    customer_api.post(ITEMS, {"sku": b}, format="json")
    r = customer_api.get(CART)
    assert r.status_code == 200
    assert {ln["sku"]: ln["quantity"] for ln in r.data["lines"]} == {a: 3, b: 1}
    assert (r.data["subtotal"], r.data["item_count"], r.data["line_count"]) == ("11.50", 4, 2)
    # patch
    r = customer_api.patch(item_url(a), {"quantity": 5}, format="json")
    assert r.status_code == 200
    assert {ln["sku"]: ln["quantity"] for ln in r.data["lines"]} == {a: 5, b: 1}
    # patch to 0 removes
    r = customer_api.patch(item_url(a), {"quantity": 0}, format="json")
    assert [ln["sku"] for ln in r.data["lines"]] == [b]
    # delete line
    assert customer_api.delete(item_url(b)).status_code == 204
    assert customer_api.get(CART).data["lines"] == []
    # clear
    customer_api.post(ITEMS, {"sku": a, "quantity": 1}, format="json")
    assert customer_api.delete(CART).status_code == 204
    assert customer_api.get(CART).data["lines"] == []


def test_customer_without_cart_gets_empty_cart(customer_api):
    r = customer_api.get(CART)
    assert r.status_code == 200
    assert (r.data["lines"], r.data["subtotal"], r.data["warnings"]) == ([], "0.00", [])


def test_unknown_and_inactive_sku_are_400_and_write_nothing(customer_api, customer, item):
    r = customer_api.post(ITEMS, {"sku": "NO-SUCH", "quantity": 1}, format="json")
    assert (r.status_code, r.data["error"]["code"]) == (400, "unknown_sku")
    r = customer_api.post(ITEMS, {"sku": item(active=False).sku, "quantity": 1}, format="json")
    assert (r.status_code, r.data["error"]["code"]) == (400, "inactive_sku")
    assert stored(f"u:{customer.pk}") == {}
    assert stream_events() == []


@pytest.mark.parametrize("body", [
    {"sku": "A", "quantity": 0}, {"sku": "A", "quantity": -1}, {"sku": "A", "quantity": "x"},
    {"sku": "A", "quantity": 10**30}, {"quantity": 1}, {"sku": "x" * 256, "quantity": 1},
    {"sku": ["A"], "quantity": 1},
])
def test_malformed_add_is_validation_error(customer_api, body):
    r = customer_api.post(ITEMS, body, format="json")
    assert (r.status_code, r.data["error"]["code"]) == (400, "validation_error")


def test_malformed_json_is_400(customer_api):
    r = customer_api.post(ITEMS, "{nope", content_type="application/json")
    assert (r.status_code, r.data["error"]["code"]) == (400, "parse_error")


def test_limits_over_api(customer_api, item, settings):
    settings.CART_MAX_QUANTITY_PER_LINE = 3
    settings.CART_MAX_LINES = 1
    a = item().sku
    customer_api.post(ITEMS, {"sku": a, "quantity": 3}, format="json")
    r = customer_api.post(ITEMS, {"sku": a, "quantity": 1}, format="json")
    assert (r.status_code, r.data["error"]["code"]) == (400, "cart_limit_exceeded")
    r = customer_api.patch(item_url(a), {"quantity": 4}, format="json")
    assert (r.status_code, r.data["error"]["code"]) == (400, "cart_limit_exceeded")
    r = customer_api.post(ITEMS, {"sku": item().sku, "quantity": 1}, format="json")
    assert (r.status_code, r.data["error"]["code"]) == (400, "cart_limit_exceeded")
    assert {ln["sku"]: ln["quantity"] for ln in customer_api.get(CART).data["lines"]} == {a: 3}


def test_patch_or_delete_missing_line_is_404(customer_api, item):
    r = customer_api.patch(item_url("NOT-THERE"), {"quantity": 1}, format="json")
    assert (r.status_code, r.data["error"]["code"]) == (404, "not_found")
    assert customer_api.delete(item_url("NOT-THERE")).status_code == 404


def test_price_change_warning_over_api(customer_api, item):
    sku = item(price="3.00").sku
    customer_api.post(ITEMS, {"sku": sku, "quantity": 1}, format="json")
    product_update(sku=sku, price="2.00")
    r = customer_api.get(CART)
    assert r.data["lines"][0]["unit_price"] == "2.00"
    assert r.data["lines"][0]["price_when_added"] == "3.00"
    assert [(w["code"], w["old_price"], w["new_price"]) for w in r.data["warnings"]] == [
        ("price_changed", "3.00", "2.00")]


def test_guest_cart_flow(api, item):
    sku = item().sku
    # a guest's first add creates a cart and returns its token (body and header)
    r = api.post(ITEMS, {"sku": sku, "quantity": 2}, format="json")
    assert r.status_code == 201
    token = r.data["token"]
    assert r["X-Cart-Token"] == token and r.data["guest"] is True
    # the token names the cart
    r = api.get(CART, HTTP_X_CART_TOKEN=token)
    assert (r.status_code, r.data["token"]) == (200, None)
    assert [(ln["sku"], ln["quantity"]) for ln in r.data["lines"]] == [(sku, 2)]
    r = api.patch(item_url(sku), {"quantity": 4}, format="json", HTTP_X_CART_TOKEN=token)
    assert r.data["lines"][0]["quantity"] == 4


def test_guest_can_create_empty_cart(api):
    r = api.post(CART)
    assert r.status_code == 201
    token = r.data["token"]
    r = api.get(CART, HTTP_X_CART_TOKEN=token)
    assert (r.status_code, r.data["lines"]) == (200, [])


@pytest.mark.parametrize("token", ["A" * 43, "short", "../../etc", "x" * 500])
def test_guessed_or_malformed_token_is_404(api, item, token):
    sku = item().sku
    assert api.get(CART, HTTP_X_CART_TOKEN=token).status_code == 404
    r = api.post(ITEMS, {"sku": sku, "quantity": 1}, format="json", HTTP_X_CART_TOKEN=token)
    assert (r.status_code, r.data["error"]["code"]) == (404, "not_found")
    assert api.delete(CART, HTTP_X_CART_TOKEN=token).status_code == 404
    assert stream_events() == []


def test_anonymous_without_token_has_no_cart(api):
    assert api.get(CART).status_code == 404


def test_customer_cannot_read_another_customers_cart(make_customer, item):
    alice, bob = make_customer(), make_customer()
    a_api, b_api = auth_client(alice), auth_client(bob)
    a_api.post(ITEMS, {"sku": item().sku, "quantity": 1}, format="json")
    assert b_api.get(CART).data["lines"] == []
    # a customer's cart has no token: the header cannot reach it
    assert b_api.delete(CART).status_code == 204
    assert len(a_api.get(CART).data["lines"]) == 1


def test_merge_guest_cart_into_customer(api, customer_api, item):
    a, b = item().sku, item().sku
    token = api.post(ITEMS, {"sku": a, "quantity": 2}, format="json").data["token"]
    api.post(ITEMS, {"sku": b, "quantity": 1}, format="json", HTTP_X_CART_TOKEN=token)
    customer_api.post(ITEMS, {"sku": a, "quantity": 1}, format="json")
    r = customer_api.post(MERGE, {"token": token}, format="json")
    assert r.status_code == 200, r.data
    assert {ln["sku"]: ln["quantity"] for ln in r.data["lines"]} == {a: 3, b: 1}
    assert sorted(r.data["merged"]) == sorted([a, b]) and r.data["dropped"] == []
    # the guest token no longer works as a cart
    assert api.get(CART, HTTP_X_CART_TOKEN=token).status_code == 404
    # but a retried merge answers the merged cart with the same report, changing nothing
    again = customer_api.post(MERGE, {"token": token}, format="json")
    assert again.status_code == 200, again.data
    assert {k: v for k, v in again.data.items() if k != "expires_at"} == {
        k: v for k, v in r.data.items() if k != "expires_at"}


def test_merge_retry_by_another_customer_is_404(api, customer_api, make_customer, item):
    token = api.post(ITEMS, {"sku": item().sku}, format="json").data["token"]
    assert customer_api.post(MERGE, {"token": token}, format="json").status_code == 200
    r = auth_client(make_customer()).post(MERGE, {"token": token}, format="json")
    assert (r.status_code, r.data["error"]["code"]) == (404, "not_found")


def test_merge_with_header_token_and_refusals(api, customer_api, item):
    token = api.post(ITEMS, {"sku": item().sku}, format="json").data["token"]
    # anonymous cannot merge
    assert api.post(MERGE, {"token": token}, format="json").status_code == 401
    # no token
    r = customer_api.post(MERGE, {}, format="json")
    assert (r.status_code, r.data["error"]["code"]) == (400, "validation_error")
    r = customer_api.post(MERGE, {}, format="json", HTTP_X_CART_TOKEN=token)
    assert r.status_code == 200 and len(r.data["lines"]) == 1


def test_get_cart_query_count(customer_api, item, django_assert_max_num_queries):
    for _ in range(5):
        customer_api.post(ITEMS, {"sku": item().sku}, format="json")
    # JWT user + one catalog query, whatever the number of lines
    with django_assert_max_num_queries(2):
        r = customer_api.get(CART)
    assert len(r.data["lines"]) == 5


def test_redis_down_gives_503_and_other_endpoints_work(customer, customer_api, settings, item):
    sku = item().sku
    order = order_place(customer_id=customer.pk, lines=[{"sku": sku, "quantity": 1}],
                        shipping_address=ADDRESS)
    # given Redis unreachable (a closed port)
    caches_conf = {k: dict(v) for k, v in settings.CACHES.items()}
    caches_conf["default"]["LOCATION"] = "redis://127.0.0.1:1/0"
    settings.CACHES = caches_conf
    try:
        # then every cart endpoint answers 503 in the envelope
        responses = [
            customer_api.get(CART),
            customer_api.post(ITEMS, {"sku": sku, "quantity": 1}, format="json"),
            customer_api.post(MERGE, {"token": "t" * 43}, format="json"),
            customer_api.patch(item_url("A"), {"quantity": 1}, format="json"),
            customer_api.delete(item_url("A")),
            customer_api.delete(CART),
            customer_api.post("/api/v1/cart/checkout/", {"shipping_address": ADDRESS},
                              format="json"),
        ]
        for r in responses:
            assert r.status_code == 503
            assert r.json()["error"]["code"] == "service_unavailable"
        # while order and inventory (catalog) reads keep working without Redis
        r = customer_api.get(f"/api/v1/orders/{order.order_id}/")
        assert (r.status_code, r.json()["order_id"]) == (200, str(order.order_id))
        r = customer_api.get(f"/api/v1/catalog/products/{sku}/")
        assert (r.status_code, r.json()["sku"]) == (200, sku)
    finally:
        caches["default"].close()
