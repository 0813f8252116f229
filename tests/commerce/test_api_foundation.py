import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from rest_framework import permissions
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView
from rest_framework_simplejwt.backends import TokenBackend

from commerce.accounts.models import User
from commerce.core.errors import Conflict
from tests.conftest import PASSWORD, auth_client

pytestmark = pytest.mark.django_db


def error_of(response) -> dict:
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    return body["error"]


# --- auth --------------------------------------------------------------------------------

def test_register_then_token_then_refresh_then_authenticated_request(api):
    # given a newly registered customer
    r = api.post("/api/v1/auth/register/", {"email": "New@Example.com", "password": PASSWORD},
                 format="json")
    assert r.status_code == 201
    assert r.json()["email"] == "new@example.com"
    user_id = r.json()["id"]
    # when they exchange email + password for tokens
    r = api.post("/api/v1/auth/token/", {"email": "new@example.com", "password": PASSWORD},
                 format="json")
    assert r.status_code == 200
    access, refresh = r.json()["access"], r.json()["refresh"]
    # then the access token authenticates a request, and refresh gives a new access token
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    me = api.get("/api/v1/auth/me/")
    assert me.status_code == 200
    assert me.json() == {"id": user_id, "email": "new@example.com",
                         "full_name": "", "is_staff": False, "roles": [], "permissions": []}
    api.credentials()
    r = api.post("/api/v1/auth/token/refresh/", {"refresh": refresh}, format="json")
    assert r.status_code == 200 and "access" in r.json()


def test_register_duplicate_email_is_409_and_creates_nothing(api, customer):
    r = api.post("/api/v1/auth/register/", {"email": customer.email.upper(), "password": PASSWORD},
                 format="json")
    assert r.status_code == 409
    assert error_of(r)["code"] == "email_taken"
    assert User.objects.filter(email=customer.email).count() == 1


def test_register_weak_password_and_bad_email_are_400_with_field_errors(api):
    r = api.post("/api/v1/auth/register/", {"email": "not-an-email", "password": "short"},
                 format="json")
    err = error_of(r)
    assert r.status_code == 400 and err["code"] == "validation_error"
    assert set(err["details"]) == {"email", "password"}
    r = api.post("/api/v1/auth/register/", {"email": "ok@example.com", "password": "12345678"},
                 format="json")
    assert r.status_code == 400 and "password" in error_of(r)["details"]
    assert not User.objects.filter(email="ok@example.com").exists()


def test_wrong_password_gives_401_envelope(api, customer):
    r = api.post("/api/v1/auth/token/", {"email": customer.email, "password": "wrong-password"},
                 format="json")
    assert r.status_code == 401
    assert error_of(r)["code"] == "authentication_failed"


def test_external_identity_provider_tokens_verified_by_key_issuer_and_audience(
    api, customer, monkeypatch
):
    # given settings for an external IdP: RS256 public key, issuer and audience
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    backend = TokenBackend("RS256", verifying_key=public_pem, audience="commerce",
                           issuer="https://idp.example.com")
    monkeypatch.setattr("rest_framework_simplejwt.state.token_backend", backend)

    def idp_token(**overrides):
        claims = {"user_id": str(customer.id), "token_type": "access", "jti": uuid.uuid4().hex,
                  "exp": int(time.time()) + 300, "iss": "https://idp.example.com",
                  "aud": "commerce", **overrides}
        return jwt.encode(claims, key, algorithm="RS256")

    # when the IdP's token is presented, it authenticates
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {idp_token()}")
    assert api.get("/api/v1/auth/me/").json()["email"] == customer.email
    # and tokens for another audience or issuer are refused
    for bad in ({"aud": "someone-else"}, {"iss": "https://evil.example.com"}):
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {idp_token(**bad)}")
        r = api.get("/api/v1/auth/me/")
        assert r.status_code == 401 and error_of(r)["code"] == "authentication_failed"


# --- error envelope ----------------------------------------------------------------------

def test_401_when_unauthenticated_and_for_a_garbage_token(api):
    r = api.get("/api/v1/auth/me/")
    assert r.status_code == 401 and error_of(r)["code"] == "not_authenticated"
    api.credentials(HTTP_AUTHORIZATION="Bearer not.a.token")
    r = api.get("/api/v1/auth/me/")
    assert r.status_code == 401 and error_of(r)["code"] == "authentication_failed"


def test_400_for_malformed_json(api):
    r = api.generic("POST", "/api/v1/auth/register/", "{not json", content_type="application/json")
    assert r.status_code == 400 and error_of(r)["code"] == "parse_error"


def test_415_for_a_form_body(api):
    r = api.post("/api/v1/auth/register/", {"email": "a@b.c"})  # multipart
    assert r.status_code == 415 and error_of(r)["code"] == "unsupported_media_type"


def test_404_for_unknown_api_path_is_json(customer_api):
    r = customer_api.get("/api/v1/no-such-thing/")
    assert r.status_code == 404 and error_of(r)["code"] == "not_found"


def test_405_for_wrong_method(api):
    r = api.get("/api/v1/auth/token/")
    assert r.status_code == 405 and error_of(r)["code"] == "method_not_allowed"


class StaffOnly(APIView):
    permission_classes = [permissions.IsAdminUser]

    def get(self, request):
        raise AssertionError("unreachable")


class Conflicting(APIView):
    def get(self, request):
        raise Conflict("Order is shipped.", details={"status": "shipped"})


def test_403_and_409_use_the_envelope(customer):
    factory = APIRequestFactory()
    request = factory.get("/x")
    from rest_framework.test import force_authenticate

    force_authenticate(request, user=customer)
    r = StaffOnly.as_view()(request)
    assert r.status_code == 403 and r.data["error"]["code"] == "permission_denied"
    request = factory.get("/x")
    force_authenticate(request, user=customer)
    r = Conflicting.as_view()(request)
    assert r.status_code == 409
    assert r.data == {"error": {"code": "conflict", "message": "Order is shipped.",
                                "details": {"status": "shipped"}}}


# --- operations --------------------------------------------------------------------------

def test_healthz_and_readyz(api):
    assert api.get("/healthz").json() == {"status": "ok"}
    r = api.get("/readyz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "checks": {"postgres": "ok", "redis": "ok"}}


def test_readyz_is_503_when_redis_is_unreachable(api, settings):
    # given the cache pointing at a port where nothing listens (Django re-reads CACHES)
    settings.CACHES = {**settings.CACHES, "default": {**settings.CACHES["default"],
                                                      "LOCATION": "redis://127.0.0.1:1/0"}}
    r = api.get("/readyz")
    assert r.status_code == 503
    assert r.json()["status"] == "unavailable"
    assert r.json()["checks"]["postgres"] == "ok"
    assert r.json()["checks"]["redis"].startswith("error")


def test_metrics_exposes_django_and_business_metrics(api, customer):
    auth_client(customer).get("/api/v1/auth/me/")
    body = api.get("/metrics").content.decode()
    assert "django_http_requests_total_by_method_total" in body
    assert "commerce_events_appended_total" in body


def test_openapi_schema_and_docs(api):
    r = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert r.status_code == 200
    schema = r.json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/auth/token/" in schema["paths"]
    assert api.get("/api/docs/").status_code == 200


def test_correlation_id_is_echoed(api):
    r = api.get("/healthz", HTTP_X_CORRELATION_ID="abc-123")
    assert r["X-Correlation-ID"] == "abc-123"
    assert len(api.get("/healthz")["X-Correlation-ID"]) == 36
