"""GET /api/v1/orders/{id}/payments/: the owner or staff; 404 for anyone else."""

import uuid

import pytest

from tests.conftest import auth_client
from tests.factories import make_item
from tests.sagas.helpers import place

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(customer, django_capture_on_commit_callbacks):
    item = make_item(price="4.00", quantity=10)
    with django_capture_on_commit_callbacks(execute=True):
        return place(customer, item, quantity=3)


def test_owner_sees_payments_with_operations(order, customer_api,
                                             django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        r = customer_api.get(f"/api/v1/orders/{order.order_id}/payments/")
    assert r.status_code == 200
    assert r.json()["count"] == 1
    [payment] = r.json()["results"]
    assert (payment["status"], payment["authorized_amount"], payment["captured_amount"],
            payment["refunded_amount"], payment["currency"]) == (
        "captured", "12.00", "12.00", "0.00", "USD")
    assert payment["order_id"] == str(order.order_id)
    assert [op["kind"] for op in payment["operations"]] == ["authorize", "capture"]


def test_staff_sees_any_order(order, staff_api):
    r = staff_api.get(f"/api/v1/orders/{order.order_id}/payments/")
    assert r.status_code == 200 and r.json()["count"] == 1


def test_other_customers_get_404(order, make_customer, api):
    other = auth_client(make_customer())
    r = other.get(f"/api/v1/orders/{order.order_id}/payments/")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    assert api.get(f"/api/v1/orders/{order.order_id}/payments/").status_code == 401


def test_unknown_order_is_404(customer_api, staff_api):
    for client in (customer_api, staff_api):
        assert client.get(f"/api/v1/orders/{uuid.uuid4()}/payments/").status_code == 404
