"""Shipping options at checkout: live quotes for the cart, the chosen one charged, expired,
foreign or stale quotes refused."""

from decimal import Decimal

import pytest
from django.core.cache import cache

from cart import services as cart_services
from cart.refs import cart_ref_for_user
from commerce.eventstore.models import Event, OutboxMessage
from orders.models import OrderView
from shipping.quotes import _QUOTE_KEY
from tests.conftest import auth_client
from tests.factories import make_item
from tests.shipping.conftest import ADDRESS


def assert_nothing_placed() -> None:
    """A refused checkout wrote no order: no view, no order event, nothing to publish."""
    assert not OrderView.objects.exists()
    assert not Event.objects.filter(aggregate_type="Order").exists()
    assert not OutboxMessage.objects.filter(topic="Order").exists()

pytestmark = pytest.mark.django_db

OPTIONS = "/api/v1/cart/shipping-options/"
CHECKOUT = "/api/v1/cart/checkout/"


@pytest.fixture
def filled_cart(customer):
    """The customer's cart: 2 × 10.00 + 1 × 25.00 = 45.00 (below the free threshold)."""
    a = make_item(price="10.00", quantity=20, weight_kg="0.500")
    b = make_item(price="25.00", quantity=20, weight_kg="2.000", length_cm="40",
                  width_cm="30", height_cm="20")
    ref = cart_ref_for_user(customer)
    cart_services.cart_item_add(cart=ref, sku=a.sku, quantity=2)
    cart_services.cart_item_add(cart=ref, sku=b.sku, quantity=1)
    return ref, (a, b)


def options(client, country="US", postal_code="10001"):
    return client.get(OPTIONS, {"country": country, "postal_code": postal_code})


def test_options_come_from_every_carrier_cheapest_first(carrier_sim, filled_cart,
                                                        customer_api):
    r = options(customer_api)
    assert r.status_code == 200, r.json()
    body = r.json()
    assert (body["country"], body["currency"], body["subtotal"]) == ("US", "USD", "45.00")
    assert len(body["options"]) == 12  # 4 service levels × 3 carriers
    prices = [Decimal(o["price"]) for o in body["options"]]
    assert prices == sorted(prices) and prices[0] > 0
    assert {o["carrier"] for o in body["options"]} == {"fedex", "ups", "dhl"}
    first = body["options"][0]
    assert first["price"] == first["carrier_price"]
    assert first["estimated_delivery"] and first["expires_at"] and first["quote_id"]
    # and asking again soon is served from the cache (no carrier called again)
    calls = len(carrier_sim.state.calls)
    assert len(options(customer_api).json()["options"]) == 12
    assert len(carrier_sim.state.calls) == calls


def test_checkout_charges_the_chosen_option(carrier_sim, filled_cart, customer_api):
    option = options(customer_api).json()["options"][1]
    r = customer_api.post(CHECKOUT, {"shipping_address": ADDRESS,
                                     "payment_method": "pm_card_visa",
                                     "shipping_quote_id": option["quote_id"]}, format="json")
    assert r.status_code == 201, r.json()
    body = r.json()
    assert body["shipping"] == option["price"]
    assert Decimal(body["total"]) == Decimal("45.00") + Decimal(option["price"])
    placed = Event.objects.get(aggregate_id=body["order_id"], event_type="OrderPlaced")
    assert placed.event_data["shipping"] == option["price"]
    assert placed.event_data["shipping_option"] == {
        "quote_id": option["quote_id"], "carrier": option["carrier"],
        "service_level": option["service_level"], "service_code": option["service_code"],
        "service_name": option["service_name"], "price": option["carrier_price"],
        "currency": "USD"}


def test_free_shipping_from_the_threshold(carrier_sim, filled_cart, customer_api, settings):
    settings.SHIPPING_FREE_THRESHOLD = Decimal("40.00")
    option = options(customer_api).json()["options"][0]
    assert option["price"] == "0.00" and Decimal(option["carrier_price"]) > 0
    r = customer_api.post(CHECKOUT, {"shipping_address": ADDRESS,
                                     "shipping_quote_id": option["quote_id"]}, format="json")
    assert (r.json()["shipping"], r.json()["total"]) == ("0.00", "45.00")


def test_an_expired_quote_is_refused(carrier_sim, filled_cart, customer_api):
    option = options(customer_api).json()["options"][0]
    key = _QUOTE_KEY.format(option["quote_id"])
    stored = cache.get(key)
    cache.set(key, {**stored, "expires_at": "2020-01-01T00:00:00+00:00"})
    r = customer_api.post(CHECKOUT, {"shipping_address": ADDRESS,
                                     "shipping_quote_id": option["quote_id"]}, format="json")
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "shipping_quote_expired"
    assert_nothing_placed()


def test_a_foreign_or_unknown_quote_is_refused(carrier_sim, filled_cart, customer_api,
                                               make_customer):
    # given another customer's quote
    other = make_customer()
    other_ref = cart_ref_for_user(other)
    cart_services.cart_item_add(cart=other_ref, sku=filled_cart[1][0].sku, quantity=1)
    theirs = options(auth_client(other)).json()["options"][0]["quote_id"]
    for quote_id in (theirs, "6b0d2f0e-0000-4000-8000-000000000000"):
        r = customer_api.post(CHECKOUT, {"shipping_address": ADDRESS,
                                         "shipping_quote_id": quote_id}, format="json")
        assert r.status_code == 400
        assert r.json()["error"]["code"] == "shipping_quote_invalid"
    assert_nothing_placed()


def test_a_quote_for_other_cart_contents_or_another_place_is_refused(carrier_sim, filled_cart,
                                                                     customer_api):
    ref, (a, _) = filled_cart
    quote = options(customer_api).json()["options"][0]["quote_id"]
    # the quote was for 10001, the address says 90210
    r = customer_api.post(CHECKOUT, {"shipping_address": {**ADDRESS, "postal_code": "90210"},
                                     "shipping_quote_id": quote}, format="json")
    assert (r.status_code, r.json()["error"]["code"]) == (400, "shipping_quote_invalid")
    # the cart changed since the quote (another parcel)
    cart_services.cart_item_add(cart=ref, sku=a.sku, quantity=1)
    r = customer_api.post(CHECKOUT, {"shipping_address": ADDRESS,
                                     "shipping_quote_id": quote}, format="json")
    assert (r.status_code, r.json()["error"]["code"]) == (409, "shipping_quote_expired")
    assert_nothing_placed()


def test_no_carrier_answering_is_a_503(carrier_sim, filled_cart, customer_api):
    carrier_sim.fault(carrier="*", operation="rate", mode="error", times=99)
    r = options(customer_api, postal_code="10002")
    assert r.status_code == 503 and r["Retry-After"] == "5"
    assert r.json()["error"]["code"] == "service_unavailable"
    # one carrier answering is enough (the others are left out)
    carrier_sim.state.faults.clear()
    carrier_sim.fault(carrier="ups", operation="rate", mode="error", times=99)
    carrier_sim.fault(carrier="dhl", operation="rate", mode="error", times=99)
    assert {o["carrier"] for o in options(customer_api, postal_code="10003").json()[
        "options"]} == {"fedex"}


def test_a_quote_can_be_required(carrier_sim, filled_cart, customer_api, settings):
    settings.SHIPPING_QUOTE_REQUIRED = True
    r = customer_api.post(CHECKOUT, {"shipping_address": ADDRESS}, format="json")
    assert (r.status_code, r.json()["error"]["code"]) == (400, "shipping_quote_required")
    assert_nothing_placed()


def test_options_need_a_cart_and_a_destination(carrier_sim, customer_api, api):
    assert options(customer_api).json()["error"]["code"] == "cart_empty"
    assert customer_api.get(OPTIONS, {"country": "USA"}).status_code == 400
    assert api.get(OPTIONS, {"country": "US", "postal_code": "1"}).status_code == 404
