"""Concurrent cart writes with real threads against the real Redis and PostgreSQL."""

from decimal import Decimal

import pytest

from cart import services
from cart.refs import cart_ref_for_user
from cart.selectors import cart_get
from commerce.eventstore.models import Event
from orders.models import OrderView
from tests.cart.conftest import stored
from tests.concurrency import run_together
from tests.conftest import auth_client

pytestmark = pytest.mark.django_db(transaction=True)




def test_concurrent_adds_of_different_skus_keep_every_line(customer, item):
    # given one cart and 8 skus
    cart = cart_ref_for_user(customer)
    skus = [item().sku for _ in range(8)]
    # when 8 requests add a different sku each at the same moment
    results = run_together(*[
        (lambda s=s: services.cart_item_add(cart=cart, sku=s, quantity=1)) for s in skus])
    # then every line is there and the line counter agrees
    assert results == [1] * 8
    assert {ln.sku: ln.quantity for ln in cart_get(cart=cart).lines} == dict.fromkeys(skus, 1)
    assert stored(cart.cart_id)["n"] == "8"


def test_concurrent_adds_of_one_sku_sum_and_respect_the_cap(customer, item, settings):
    settings.CART_MAX_QUANTITY_PER_LINE = 5
    cart = cart_ref_for_user(customer)
    sku = item().sku
    # when 8 requests add 1 unit of the same sku at once with a cap of 5
    results = run_together(*[
        (lambda: services.cart_item_add(cart=cart, sku=sku, quantity=1)) for _ in range(8)])
    # then exactly 5 succeed and the line holds exactly 5
    assert sorted(r for r in results if isinstance(r, int)) == [1, 2, 3, 4, 5]
    assert sum(isinstance(r, services.CartLimitExceeded) for r in results) == 3
    assert cart_get(cart=cart).lines[0].quantity == 5


ADDRESS = {"name": "Ada Lovelace", "line1": "12 St James's Square", "city": "London",
           "postal_code": "SW1Y 4JH", "country": "GB"}


def _checkout_calls(user, n, **headers):
    def call():
        r = auth_client(user).post("/api/v1/cart/checkout/", {"shipping_address": ADDRESS},
                                   format="json", **headers)
        return r.status_code, r.json()

    return [call] * n


@pytest.mark.parametrize("headers", [{}, {"HTTP_IDEMPOTENCY_KEY": "same-click"}],
                         ids=["no-key", "same-key"])
def test_concurrent_checkouts_of_one_cart_create_exactly_one_order(customer, item, headers):
    # given a cart with two lines
    cart = cart_ref_for_user(customer)
    services.cart_item_add(cart=cart, sku=item(price="3.00").sku, quantity=2)
    services.cart_item_add(cart=cart, sku=item(price="4.00").sku, quantity=1)
    # when ten checkouts of it run at the same moment
    results = run_together(*_checkout_calls(customer, 10, **headers))
    # then exactly one order exists and every answer is that order (none "cart empty", even
    # those arriving after the first cleared the cart)
    assert not [r for r in results if isinstance(r, Exception)], results
    [order] = OrderView.objects.filter(customer_id=customer.pk)
    assert Event.objects.filter(aggregate_type="Order", event_type="OrderPlaced").count() == 1
    assert order.subtotal == Decimal("10.00")
    statuses = sorted(status for status, _ in results)
    assert statuses.count(201) >= 1 and set(statuses) <= {200, 201}, results
    assert {body["order_id"] for _, body in results} == {str(order.order_id)}
    if headers:  # with one key every duplicate replays the first answer
        assert statuses == [201] * 10
    assert stored(cart.cart_id) == {}
