"""Staff saga API: GET /api/v1/sagas/ and /api/v1/sagas/{id}/."""

import uuid

import pytest

from commerce.accounts import roles
from tests.conftest import auth_client
from tests.factories import make_item
from tests.sagas.helpers import fulfilment_saga, place

pytestmark = pytest.mark.django_db


@pytest.fixture
def sagas(customer, django_capture_on_commit_callbacks):
    """One completed and one compensated fulfilment saga."""
    item = make_item(quantity=10)
    with django_capture_on_commit_callbacks(execute=True):
        ok = place(customer, item)
        declined = place(customer, item, method="pm_card_chargeDeclined")
    return fulfilment_saga(ok.order_id), fulfilment_saga(declined.order_id)


def test_staff_list_with_status_filter(sagas, staff_api, django_assert_max_num_queries):
    ok, declined = sagas
    with django_assert_max_num_queries(6):
        everything = staff_api.get("/api/v1/sagas/")
    assert everything.status_code == 200
    assert {s["id"] for s in everything.json()["results"]} == {str(ok.id), str(declined.id)}
    only = staff_api.get("/api/v1/sagas/", {"status": "compensated"}).json()["results"]
    assert [(s["id"], s["status"], s["saga_type"]) for s in only] == [
        (str(declined.id), "compensated", "order_fulfilment")]
    by_order = staff_api.get("/api/v1/sagas/", {"correlation_id": str(ok.correlation_id)})
    assert [s["id"] for s in by_order.json()["results"]] == [str(ok.id)]


def test_staff_detail_shows_steps(sagas, staff_api, django_assert_max_num_queries):
    _, declined = sagas
    with django_assert_max_num_queries(6):
        r = staff_api.get(f"/api/v1/sagas/{declined.id}/")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "compensated"
    assert body["saga_data"]["failure"]["code"] == "payment_declined"
    assert [(s["step"], s["action"], s["status"], s["attempts"]) for s in body["steps"]] == [
        ("start", "forward", "succeeded", 1),
        ("reserve_inventory", "forward", "succeeded", 1),
        ("authorize_payment", "forward", "failed", 1),
        ("reserve_inventory", "compensate", "succeeded", 1),
        ("start", "compensate", "succeeded", 1),
    ]
    assert "payment_declined" in body["steps"][2]["last_error"]


def test_customers_and_anonymous_are_refused(sagas, customer_api, api):
    ok, _ = sagas
    for client, status in ((customer_api, 403), (api, 401)):
        assert client.get("/api/v1/sagas/").status_code == status
        assert client.get(f"/api/v1/sagas/{ok.id}/").status_code == status


def test_any_staff_role_may_read(sagas, make_staff):
    inventory_staff = auth_client(make_staff(roles.INVENTORY))
    assert inventory_staff.get("/api/v1/sagas/").status_code == 200


def test_unknown_saga_and_bad_filters(staff_api):
    missing = staff_api.get(f"/api/v1/sagas/{uuid.uuid4()}/")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert staff_api.get("/api/v1/sagas/not-a-uuid/").status_code == 404
    bad = staff_api.get("/api/v1/sagas/", {"status": "nope", "correlation_id": "x"})
    assert bad.status_code == 400
    assert set(bad.json()["error"]["details"]) == {"status", "correlation_id"}
