"""Placement checks availability up front (a courtesy: the saga's reservation is the
guarantee): a short order is refused with 409 `insufficient_stock` naming every short sku
and what is available, and nothing is written."""

import pytest

from inventory.errors import InsufficientStock
from inventory.services import stock_adjust
from orders import services
from orders.models import OrderView
from tests.factories import make_item
from tests.orders.conftest import ADDRESS, snapshot

pytestmark = pytest.mark.django_db

URL = "/api/v1/orders/"
# A placement's statements: the catalog lookup with stock, then the event with its outbox row
# (one statement), the order view with its lines (one statement) and the saga row (no
# savepoint: the order's stream is new); the availability check reads the lookup's row and
# adds none.
PLACEMENT_QUERIES = 4


def test_short_lines_are_refused_up_front_naming_each_sku(customer_api):
    # given three skus, two of them short for this order
    a = make_item(sku="ST-A", quantity=5)
    b = make_item(sku="ST-B", quantity=1)
    c = make_item(sku="ST-C", quantity=0)
    before = snapshot()
    # when the order asks for more than is there
    r = customer_api.post(URL, {"lines": [{"sku": a.sku, "quantity": 5},
                                          {"sku": b.sku, "quantity": 2},
                                          {"sku": c.sku, "quantity": 1}],
                                "shipping_address": ADDRESS}, format="json",
                          HTTP_IDEMPOTENCY_KEY="short-1")
    # then 409 names each short sku with what is available, and nothing is written
    assert r.status_code == 409
    err = r.json()["error"]
    assert err["code"] == "insufficient_stock"
    assert err["details"] == {"lines": [{"sku": "ST-B", "requested": 2, "available": 1},
                                        {"sku": "ST-C", "requested": 1, "available": 0}]}
    assert "ST-B (1 available)" in err["message"]
    assert snapshot() == before


def test_duplicate_lines_are_summed_before_the_check(customer):
    item = make_item(quantity=3)
    with pytest.raises(InsufficientStock):
        services.order_place(customer_id=customer.id, shipping_address=ADDRESS,
                             lines=[{"sku": item.sku, "quantity": 2},
                                    {"sku": item.sku, "quantity": 2}])
    assert OrderView.objects.count() == 0


def test_reserved_units_are_not_available(customer, place):
    item = make_item(quantity=4)
    stock_adjust(sku=item.sku, delta=-1, reason="broken")
    order = services.order_place(customer_id=customer.id, shipping_address=ADDRESS,
                                 lines=[{"sku": item.sku, "quantity": 3}])
    assert order.status == "placed"
    with pytest.raises(InsufficientStock) as refused:
        services.order_place(customer_id=customer.id, shipping_address=ADDRESS,
                             lines=[{"sku": item.sku, "quantity": 4}])
    assert refused.value.details["lines"][0]["available"] == 3


def test_the_check_adds_no_query_to_placement(customer, django_assert_num_queries):
    # the availability comes with the catalog lookup placement already makes
    item = make_item(quantity=10)
    with django_assert_num_queries(PLACEMENT_QUERIES):
        services.order_place(customer_id=customer.id, shipping_address=ADDRESS,
                             lines=[{"sku": item.sku, "quantity": 1}])

