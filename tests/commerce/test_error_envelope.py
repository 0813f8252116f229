"""Every answer under /api/ is the JSON envelope, DEBUG on or off: unknown URLs, wrong
methods, oversized bodies and URLs, crashes (issue 11, item 3)."""

import json

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.fixture(params=[False, True], ids=["debug-off", "debug-on"])
def debug(request, settings):
    settings.DEBUG = request.param
    return request.param


@pytest.fixture
def client_(customer_api):
    customer_api.raise_request_exception = False
    return customer_api


def envelope_of(r, status: int, code: str) -> dict:
    assert r.status_code == status, r.content[:300]
    assert r["Content-Type"].startswith("application/json")
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    return body["error"]


def test_unknown_url(debug, client_):
    r = client_.get("/api/v1/no-such-thing/")
    envelope_of(r, 404, "not_found")
    assert b"urlpatterns" not in r.content and b"<html" not in r.content


def test_unknown_url_outside_the_api_versions(debug, api):
    envelope_of(api.get("/api/nothing"), 404, "not_found")


def test_method_not_allowed(debug, client_):
    r = client_.put("/api/v1/orders/", {}, format="json")
    envelope_of(r, 405, "method_not_allowed")
    assert "POST" in r["Allow"]


def test_body_above_the_upload_limit_is_413(debug, client_, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = json.dumps({"lines": [], "shipping_address": {}, "notes": "x" * 20_000})
    r = client_.post("/api/v1/orders/", body, content_type="application/json")
    error = envelope_of(r, 413, "payload_too_large")
    assert error["details"] == {"max_bytes": 10_000}


def test_default_upload_limit_is_413_too(debug, client_):
    body = json.dumps({"lines": [{"sku": "x" * 60, "quantity": 1}] * 40_000,
                       "shipping_address": {}})
    assert len(body) > 2_621_440
    envelope_of(client_.post("/api/v1/orders/", body, content_type="application/json"),
                413, "payload_too_large")


def test_url_too_long_is_414(debug, client_):
    r = client_.get("/api/v1/orders/?q=" + "x" * 5000)
    envelope_of(r, 414, "uri_too_long")


def test_a_crash_is_a_500_envelope_without_a_traceback(debug, client_, monkeypatch):
    from orders import selectors

    def boom(**kw):
        raise RuntimeError("secret detail: host=db.internal")

    monkeypatch.setattr(selectors, "order_list", boom)
    r = client_.get("/api/v1/orders/")
    error = envelope_of(r, 500, "internal_error")
    assert b"secret detail" not in r.content and b"Traceback" not in r.content
    assert error["details"] == ({"exception": "RuntimeError"} if debug else {})


def test_django_level_errors_outside_the_api_keep_their_pages(debug):
    # the admin is HTML for people; only /api/ speaks the envelope
    r = APIClient().get("/admin/login/")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/html")
