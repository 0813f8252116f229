from decimal import Decimal

import pytest
from django.db import transaction

from cart import services
from cart.checkout import cart_checkout
from cart.refs import cart_ref_for_user
from commerce.core.models import IdempotencyRecord
from commerce.eventstore.models import Event
from inventory.services import product_update
from orders.models import OrderView
from orders.selectors import order_get
from tests.cart.conftest import cart_metric, checkout_metric, stored, stream_events

pytestmark = pytest.mark.django_db

ITEMS = "/api/v1/cart/items/"
CHECKOUT = "/api/v1/cart/checkout/"
ADDRESS = {"name": "Ada Lovelace", "line1": "12 St James's Square", "city": "London",
           "postal_code": "SW1Y 4JH", "country": "GB"}


def orders_of(user) -> list[OrderView]:
    return list(OrderView.objects.filter(customer_id=user.pk))


def placed_events() -> int:
    return Event.objects.filter(aggregate_type="Order", event_type="OrderPlaced").count()


@pytest.fixture
def filled(customer, item):
    """The customer's cart: 2 × A (added at 10.00, now 12.00) and 1 × B at 2.50."""
    a, b = item(price="10.00").sku, item(price="2.50").sku
    cart = cart_ref_for_user(customer)
    services.cart_item_add(cart=cart, sku=a, quantity=2)
    services.cart_item_add(cart=cart, sku=b, quantity=1)
    product_update(sku=a, price="12.00")
    return cart, a, b


def test_checkout_creates_one_order_at_catalog_prices_and_clears_cart(
        customer, customer_api, filled, django_capture_on_commit_callbacks):
    cart, a, b = filled
    checkout_id = stored(cart.cart_id)["checkout_id"]
    placed_before = checkout_metric("placed")
    checked_out_before = cart_metric("checked_out")
    # when the customer checks out
    with django_capture_on_commit_callbacks(execute=True):
        r = customer_api.post(CHECKOUT, {"shipping_address": ADDRESS,
                                         "payment_method": "pm_card_visa"}, format="json")
    # then one order exists, priced from the catalog now (12.00, not the 10.00 when added)
    assert r.status_code == 201, r.data
    [order] = orders_of(customer)
    assert str(order.order_id) == r.data["order_id"] == checkout_id
    assert (order.channel, order.payment_method, order.subtotal) == (
        "cart", "pm_card_visa", Decimal("26.50"))
    assert sorted((ln["sku"], ln["quantity"], ln["unit_price"]) for ln in r.data["lines"]) == \
        sorted([(a, 2, "12.00"), (b, 1, "2.50")])
    # answered as placed; the fulfilment saga (eager, after commit) then confirmed it
    assert (r.data["subtotal"], r.data["channel"], r.data["status"]) == (
        "26.50", "cart", "placed")
    assert order.status == "confirmed"
    # and the customer is the recorded actor of the placement (bound by the request itself)
    placed = Event.objects.get(aggregate_id=order.order_id, event_type="OrderPlaced")
    assert placed.actor == f"user:{customer.pk}"
    # and the cart is gone, the checkout counted and streamed
    assert stored(cart.cart_id) == {}
    assert checkout_metric("placed") - placed_before == 1
    assert cart_metric("checked_out") - checked_out_before == 1
    assert [e["order_id"] for e in stream_events() if e["event"] == "checked_out"] == [
        checkout_id]


def test_same_idempotency_key_replays_and_creates_one_order(
        customer, customer_api, filled, django_capture_on_commit_callbacks):
    body = {"shipping_address": ADDRESS}
    with django_capture_on_commit_callbacks(execute=True):
        first = customer_api.post(CHECKOUT, body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    with django_capture_on_commit_callbacks(execute=True):
        second = customer_api.post(CHECKOUT, body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert len(orders_of(customer)) == 1
    # same key, different body → 422, nothing new
    third = customer_api.post(CHECKOUT, {"shipping_address": {**ADDRESS, "city": "Paris"}},
                              format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert (third.status_code, third.data["error"]["code"]) == (422, "idempotency_key_reused")
    assert len(orders_of(customer)) == 1


def test_resubmit_without_key_never_creates_a_second_order(
        customer, customer_api, filled, django_capture_on_commit_callbacks):
    # given a first checkout whose cart deletion has not run yet (a duplicate in flight)
    first = customer_api.post(CHECKOUT, {"shipping_address": ADDRESS}, format="json")
    assert first.status_code == 201
    assert stored(filled[0].cart_id) != {}
    # when the same cart is submitted again
    with django_capture_on_commit_callbacks(execute=True):
        second = customer_api.post(CHECKOUT, {"shipping_address": ADDRESS}, format="json")
    # then the existing order is returned (200) and the cart is now cleared
    assert second.status_code == 200
    assert second.data["order_id"] == first.data["order_id"]
    assert len(orders_of(customer)) == 1 and placed_events() == 1
    assert stored(filled[0].cart_id) == {}
    # and a third submit, after the cart was cleared, still answers the same order
    third = customer_api.post(CHECKOUT, {"shipping_address": ADDRESS}, format="json")
    assert (third.status_code, third.data["order_id"]) == (200, first.data["order_id"])
    assert len(orders_of(customer)) == 1


def test_changed_cart_checks_out_as_a_new_order(customer, filled, item,
                                                django_capture_on_commit_callbacks):
    cart = filled[0]
    first = cart_checkout(user=customer, shipping_address=ADDRESS)  # cart not cleared yet
    services.cart_item_add(cart=cart, sku=item().sku, quantity=1)
    second = cart_checkout(user=customer, shipping_address=ADDRESS)
    assert first.created and second.created
    assert first.order.order_id != second.order.order_id
    assert len(orders_of(customer)) == 2


def test_lines_added_during_checkout_survive_the_clear(customer, filled, item,
                                                       django_capture_on_commit_callbacks):
    cart = filled[0]
    extra = item().sku
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        cart_checkout(user=customer, shipping_address=ADDRESS)
        # another request adds a line before the order's transaction commits
        services.cart_item_add(cart=cart, sku=extra, quantity=1)
    lines = {k for k in stored(cart.cart_id) if k.startswith("l:")}
    assert lines == {f"l:{extra}", f"l:{filled[1]}", f"l:{filled[2]}"}


def _assert_nothing_placed(customer, cart_before, cart_id):
    assert orders_of(customer) == []
    assert placed_events() == 0
    assert IdempotencyRecord.objects.count() == 0
    assert stored(cart_id) == cart_before


def test_empty_cart_checkout_is_400(customer, customer_api):
    r = customer_api.post(CHECKOUT, {"shipping_address": ADDRESS}, format="json",
                          HTTP_IDEMPOTENCY_KEY="k-empty")
    assert (r.status_code, r.data["error"]["code"]) == (400, "cart_empty")
    _assert_nothing_placed(customer, {}, f"u:{customer.pk}")


def test_unavailable_item_fails_checkout_and_keeps_cart(customer, customer_api, filled,
                                                        django_capture_on_commit_callbacks):
    cart, a, _b = filled
    product_update(sku=a, active=False)
    before = stored(cart.cart_id)
    with django_capture_on_commit_callbacks(execute=True):
        r = customer_api.post(CHECKOUT, {"shipping_address": ADDRESS}, format="json",
                              HTTP_IDEMPOTENCY_KEY="k-2")
    assert (r.status_code, r.data["error"]["code"]) == (409, "cart_unavailable")
    assert [(ln["sku"], ln["code"]) for ln in r.data["error"]["details"]["lines"]] == [
        (a, "unavailable")]
    _assert_nothing_placed(customer, before, cart.cart_id)


def test_insufficient_stock_fails_checkout_and_keeps_cart(customer, customer_api, item):
    cart = cart_ref_for_user(customer)
    sku = item(quantity=1).sku
    services.cart_item_add(cart=cart, sku=sku, quantity=2)
    before = stored(cart.cart_id)
    r = customer_api.post(CHECKOUT, {"shipping_address": ADDRESS}, format="json")
    assert (r.status_code, r.data["error"]["code"]) == (409, "cart_unavailable")
    assert r.data["error"]["details"]["lines"][0]["available"] == 1
    _assert_nothing_placed(customer, before, cart.cart_id)


@pytest.mark.parametrize("body", [
    {"shipping_address": {**ADDRESS, "country": "Narnia"}},
    {"shipping_address": {"name": "x"}},
    {"shipping_address": "not an object"},
    {},
    {"shipping_address": ADDRESS, "payment_method": ["card"]},
])
def test_invalid_checkout_input_is_400_and_keeps_cart(customer, customer_api, filled, body,
                                                      django_capture_on_commit_callbacks):
    before = stored(filled[0].cart_id)
    with django_capture_on_commit_callbacks(execute=True):
        r = customer_api.post(CHECKOUT, body, format="json", HTTP_IDEMPOTENCY_KEY="k-3")
    assert (r.status_code, r.data["error"]["code"]) == (400, "validation_error")
    _assert_nothing_placed(customer, before, filled[0].cart_id)


def test_guest_checkout_requires_an_email_and_a_cart(api):
    r = api.post(CHECKOUT, {"shipping_address": ADDRESS}, format="json",
                 HTTP_X_CART_TOKEN="t" * 43)
    assert (r.status_code, r.data["error"]["code"]) == (400, "validation_error")
    assert set(r.data["error"]["details"]) == {"email"}
    r = api.post(CHECKOUT, {"shipping_address": ADDRESS, "email": "g@example.com"},
                 format="json", HTTP_X_CART_TOKEN="t" * 43)
    assert (r.status_code, r.data["error"]["code"]) == (404, "not_found")


def test_checkout_uses_only_the_customers_own_cart(make_customer, item):
    from tests.conftest import auth_client

    alice, bob = make_customer(), make_customer()
    services.cart_item_add(cart=cart_ref_for_user(alice), sku=item().sku, quantity=1)
    r = auth_client(bob).post(CHECKOUT, {"shipping_address": ADDRESS}, format="json")
    assert (r.status_code, r.data["error"]["code"]) == (400, "cart_empty")
    assert OrderView.objects.count() == 0


def _redis_at_closed_port(settings):
    original = settings.CACHES
    conf = {k: dict(v) for k, v in original.items()}
    conf["default"]["LOCATION"] = "redis://127.0.0.1:1/0"
    settings.CACHES = conf
    return original


def test_redis_down_after_commit_keeps_order_and_retry_returns_it(
        customer, customer_api, filled, settings, django_capture_on_commit_callbacks):
    cart = filled[0]
    # given Redis goes away after the order is placed, before the cart is cleared
    with django_capture_on_commit_callbacks(execute=True):
        first = cart_checkout(user=customer, shipping_address=ADDRESS)
        original = _redis_at_closed_port(settings)
    # then the order stands (the failed clear is only logged) and is readable without Redis
    assert first.created
    assert order_get(order_id=first.order.order_id).channel == "cart"
    settings.CACHES = original
    assert stored(cart.cart_id) != {}
    # when the customer retries once Redis is back, they get the same order, cart cleared
    with django_capture_on_commit_callbacks(execute=True):
        r = customer_api.post(CHECKOUT, {"shipping_address": ADDRESS}, format="json")
    assert (r.status_code, r.data["order_id"]) == (200, str(first.order.order_id))
    assert len(orders_of(customer)) == 1
    assert stored(cart.cart_id) == {}


def test_redis_down_checkout_is_503_and_places_nothing(customer, customer_api, filled,
                                                       settings):
    original = _redis_at_closed_port(settings)
    r = customer_api.post(CHECKOUT, {"shipping_address": ADDRESS}, format="json",
                          HTTP_IDEMPOTENCY_KEY="k-down")
    assert (r.status_code, r.json()["error"]["code"]) == (503, "service_unavailable")
    assert orders_of(customer) == [] and IdempotencyRecord.objects.count() == 0
    settings.CACHES = original
