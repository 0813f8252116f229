"""PostgreSQL or Redis unreachable during a request → 503 `service_unavailable` with
Retry-After, DEBUG on or off, wherever it surfaces (issue 9, item 4). The shared services are
never touched: the settings point at a free port where nothing listens."""

import json
import uuid

import pytest
from django.db import connections
from django.test import Client
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from commerce.accounts.models import User
from simulators.server import free_port
from tests.conftest import PASSWORD, auth_client
from tests.factories import make_item


@pytest.fixture(params=[False, True], ids=["debug-off", "debug-on"])
def debug(request, settings):
    settings.DEBUG = request.param
    return request.param


def assert_unavailable(r, service: str, *, envelope: bool = True):
    assert r.status_code == 503, r.content[:300]
    assert r["Retry-After"] == "5"
    if envelope:
        assert r.json() == {"error": {
            "code": "service_unavailable",
            "message": "A backing service is unavailable; retry later.",
            "details": {"service": service}}}
    else:
        assert b"Traceback" not in r.content and service.encode() in r.content


# --- Redis down -------------------------------------------------------------------------
def point_redis_at_nothing(settings):
    """The cache (throttles, carts) at a port where nothing listens."""
    settings.CACHES = {**settings.CACHES, "default": {
        **settings.CACHES["default"], "LOCATION": f"redis://127.0.0.1:{free_port()}/0"}}


@pytest.fixture
def redis_down(settings):
    point_redis_at_nothing(settings)


@pytest.mark.django_db
def test_order_and_inventory_reads_work_while_redis_is_down(debug, settings, customer,
                                                            make_staff):
    from commerce.accounts import roles
    from orders import services

    # given an order and a stock item
    item = make_item(sku="OUT-1")
    order = services.order_place(customer_id=customer.id, lines=[{"sku": "OUT-1", "quantity": 1}],
                                 shipping_address={"name": "A", "line1": "1 Way", "city": "C",
                                                   "postal_code": "12345", "country": "GB"})
    stock_api = auth_client(make_staff(roles.INVENTORY))
    customer_api = auth_client(customer)
    # when Redis goes away
    point_redis_at_nothing(settings)
    # then reads still answer
    assert customer_api.get("/api/v1/orders/").status_code == 200
    assert customer_api.get(f"/api/v1/orders/{order.order_id}/").status_code == 200
    assert customer_api.get(f"/api/v1/orders/{order.order_id}/events/").status_code == 200
    assert customer_api.get(f"/api/v1/catalog/products/{item.sku}/").status_code == 200
    assert stock_api.get(f"/api/v1/inventory/items/{item.sku}/").status_code == 200
    assert stock_api.get("/api/v1/inventory/items/").status_code == 200
    assert stock_api.get("/api/v1/inventory/summary/").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/api/v1/cart/"), ("POST", "/api/v1/cart/items/"), ("DELETE", "/api/v1/cart/"),
    ("PATCH", "/api/v1/cart/items/SKU-1/"), ("POST", "/api/v1/cart/checkout/"),
])
def test_cart_answers_503_while_redis_is_down(debug, redis_down, customer, method, path):
    make_item(sku="SKU-1")
    body = {"sku": "SKU-1", "quantity": 1, "shipping_address": {
        "name": "A", "line1": "1 Way", "city": "C", "postal_code": "12345", "country": "GB"}}
    r = auth_client(customer).generic(method, path, json.dumps(body),
                                      content_type="application/json")
    assert_unavailable(r, "redis")


@pytest.mark.django_db
def test_login_works_while_redis_is_down(debug, redis_down, customer, caplog):
    # the throttles' counters live in Redis; they fail open (with a warning) rather than
    # lock everyone out
    r = APIClient().post("/api/v1/auth/token/", {"email": customer.email, "password": PASSWORD},
                         format="json")
    assert r.status_code == 200
    assert any("failing open" in rec.getMessage() for rec in caplog.records)


# --- PostgreSQL down --------------------------------------------------------------------
@pytest.fixture
def postgres_down(django_db_blocker):
    """The default database alias pointed at a port where nothing listens (its real
    settings come back afterwards)."""
    connection = connections["default"]
    saved = dict(connection.settings_dict)
    with django_db_blocker.unblock():
        connection.close()
        connection.settings_dict.update(HOST="127.0.0.1", PORT=str(free_port()))
        try:
            yield
        finally:
            connection.close()
            connection.settings_dict.clear()
            connection.settings_dict.update(saved)


def _token() -> str:
    # minted without the database: the request's authentication is its first query
    return str(AccessToken.for_user(User(id=uuid.uuid4(), email="x@example.com")))


@pytest.mark.parametrize("path", [
    "/api/v1/orders/", f"/api/v1/orders/{uuid.uuid4()}/", "/api/v1/inventory/items/",
    "/api/v1/auth/me/",
])
def test_api_reads_answer_503_while_postgres_is_down(debug, postgres_down, path):
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {_token()}")
    assert_unavailable(client.get(path), "postgresql")


def test_api_writes_answer_503_while_postgres_is_down(debug, postgres_down):
    r = APIClient(raise_request_exception=False).post(
        "/api/v1/auth/token/", {"email": "a@example.com", "password": "x" * 10}, format="json")
    assert_unavailable(r, "postgresql")


def test_session_authenticated_api_answers_503(debug, postgres_down):
    # the session is loaded by Django's middleware, lazily, from the database
    client = APIClient(raise_request_exception=False)
    client.cookies["sessionid"] = "x" * 32
    assert_unavailable(client.get("/api/v1/orders/"), "postgresql")


def test_admin_answers_503_while_postgres_is_down(debug, postgres_down):
    client = Client(raise_request_exception=False)
    client.cookies["sessionid"] = "x" * 32
    r = client.get("/admin/orders/orderview/")
    assert_unavailable(r, "postgresql", envelope=False)


def test_readyz_says_503_too(postgres_down):
    r = Client(raise_request_exception=False).get("/readyz")
    assert r.status_code == 503
