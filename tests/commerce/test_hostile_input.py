"""Hostile input never answers 500: deep JSON, NUL bytes and lone surrogates are refused as
400 in the envelope before they reach jsonb or a query, on every write operation of the
OpenAPI schema (issue 11, items 1 and 2)."""

import json

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from commerce.accounts.models import User
from commerce.accounts.services import staff_create
from commerce.core.models import IdempotencyRecord
from commerce.eventstore.models import Event
from tests.factories import make_item
from tests.openapi import body_with, fill_path, write_operations

pytestmark = pytest.mark.django_db

HOSTILE = {"nul": "a\x00b", "lone_surrogate": "\ud800"}
DEEP = "[" * 1000 + "]" * 1000
OPERATIONS = write_operations()
IDS = [f"{method} {path}" for method, path, _ in OPERATIONS]
# Provider callbacks check the signature over the raw body before reading it (never parse
# what nobody vouched for): any hostile body is first of all an unsigned one.
SIGNED_FIRST = ("/api/v1/notifications/receipts/",)


def expected_code(path: str, code: str) -> str:
    return "invalid_signature" if path.startswith(SIGNED_FIRST) else code


@pytest.fixture
def root_api():
    """A superuser, so every operation gets as far as reading its body."""
    user = staff_create(email="root-hostile@example.com", password="pw-12345678", roles=())
    user.is_superuser = True
    user.save()
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


def stored() -> tuple[int, int, int]:
    return Event.objects.count(), IdempotencyRecord.objects.count(), User.objects.count()


def assert_envelope(r):
    body = r.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    return body["error"]


def test_every_write_operation_is_covered():
    assert len(OPERATIONS) >= 15
    assert ("POST", "/api/v1/orders/", OPERATIONS[IDS.index("POST /api/v1/orders/")][2]) \
        in OPERATIONS


@pytest.mark.parametrize(("method", "path", "json_schema"), OPERATIONS, ids=IDS)
def test_deeply_nested_json_is_a_400(root_api, method, path, json_schema):
    # given a body nested 1,000 levels deep
    before = stored()
    # when it is sent to the operation
    r = root_api.generic(method, fill_path(path), DEEP, content_type="application/json",
                         HTTP_IDEMPOTENCY_KEY="deep")
    # then it is refused in the envelope (404 where the resource is looked up first), and
    # nothing is stored
    assert r.status_code in (400, 404), r.content[:300]
    error = assert_envelope(r)
    if r.status_code == 400:
        assert error["code"] == expected_code(path, "parse_error")
    assert stored() == before


@pytest.mark.parametrize("kind", sorted(HOSTILE))
@pytest.mark.parametrize(("method", "path", "json_schema"), OPERATIONS, ids=IDS)
def test_unstorable_strings_are_a_400(root_api, method, path, json_schema, kind):
    # given a body whose every string is hostile
    make_item(sku="SKU-1")
    before = stored()
    body = json.dumps(body_with(json_schema, HOSTILE[kind]))
    # when it is sent to the operation
    r = root_api.generic(method, fill_path(path), body, content_type="application/json",
                         HTTP_IDEMPOTENCY_KEY="hostile")
    # then it is refused in the envelope, and nothing is stored
    assert r.status_code in (400, 404), r.content[:300]
    error = assert_envelope(r)
    if r.status_code == 400:
        assert error["code"] == expected_code(path, "validation_error")
    assert stored() == before


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_shipping_address_names_the_field(customer_api, kind):
    item = make_item()
    before = stored()
    r = customer_api.post("/api/v1/orders/", json.dumps({
        "lines": [{"sku": item.sku, "quantity": 1}],
        "shipping_address": {"name": HOSTILE[kind], "line1": "1 Way", "city": "Town",
                             "postal_code": "12345", "country": "GB"}}),
        content_type="application/json")
    assert r.status_code == 400
    assert assert_envelope(r) == {
        "code": "validation_error", "message": "The request is invalid.",
        "details": {"shipping_address.name": [
            "Contains a character that cannot be stored (NUL or an unpaired surrogate)."]}}
    assert stored() == before


def test_deep_json_on_cart_items_is_a_parse_error(api):
    r = api.generic("POST", "/api/v1/cart/items/", DEEP, content_type="application/json")
    assert r.status_code == 400
    assert assert_envelope(r)["code"] == "parse_error"


def test_json_just_within_the_depth_limit_is_parsed(customer_api):
    # an address nested 20 levels deep is odd but storable: the serializer decides
    nested: dict = {"x": "y"}
    for _ in range(20):
        nested = {"x": nested}
    r = customer_api.post("/api/v1/orders/", {"lines": [], "shipping_address": nested},
                          format="json")
    assert r.status_code == 400
    assert "lines" in assert_envelope(r)["details"]


@pytest.mark.parametrize("url", [
    "/api/v1/inventory/items/a%00b/",
    "/api/v1/inventory/items/?q=a%00b",
    "/api/v1/orders/?status=%00",
    "/api/v1/cart/items/a%00b/",
])
def test_nul_in_the_url_is_a_400(customer_api, url):
    method = "PATCH" if "cart/items/" in url else "GET"
    r = customer_api.generic(method, url, json.dumps({"quantity": 1}),
                             content_type="application/json")
    assert r.status_code == 400
    error = assert_envelope(r)
    assert error["code"] == "validation_error"
    assert len(error["details"]) == 1


def test_nul_in_a_header_is_a_400(customer_api):
    item = make_item()
    r = customer_api.post("/api/v1/orders/", {"lines": [{"sku": item.sku, "quantity": 1}],
                                              "shipping_address": {}},
                          format="json", HTTP_IDEMPOTENCY_KEY="k\x00ey")
    assert r.status_code == 400
    assert assert_envelope(r)["details"] == {"header.Idempotency-Key": [
        "Contains a character that cannot be stored (NUL or an unpaired surrogate)."]}
    assert IdempotencyRecord.objects.count() == 0


def test_admin_search_with_nul_is_a_400_not_a_500(client):
    staff = staff_create(email="root-search@example.com", password="pw-12345678", roles=())
    staff.is_superuser = True
    staff.save()
    client.force_login(staff)
    client.raise_request_exception = False
    r = client.get("/admin/orders/orderview/?q=a%00b")
    assert r.status_code == 400
