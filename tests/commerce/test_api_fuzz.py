"""A bounded property-based fuzz of the whole API from its own OpenAPI schema (schemathesis
against the WSGI app, real PostgreSQL and Redis): whatever a client sends, no 5xx, and every
error body is the envelope (issue 11). About a minute in CI; FUZZ_EXAMPLES raises it."""

import os

import pytest
from hypothesis import HealthCheck, Phase, settings
from rest_framework_simplejwt.tokens import RefreshToken

from commerce.accounts.services import staff_create
from tests.api.openapi import api_schema, in_test_transaction
from tests.factories import make_item

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "80"))

schema = api_schema()  # the suite's one schemathesis wiring (tests/api/openapi.py)


@pytest.fixture
def wsgi_in_test_transaction():
    with in_test_transaction():
        yield


@pytest.fixture
def superuser_token(db, wsgi_in_test_transaction):
    """Every operation, staff ones included, gets past authentication and permissions."""
    user = staff_create(email="fuzz-root@example.com", password="pw-12345678", roles=())
    user.is_superuser = True
    user.save()
    make_item(sku="FUZZ-1")
    return str(RefreshToken.for_user(user).access_token)


def assert_envelope(response) -> None:
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}, body
    assert isinstance(body["error"]["code"], str) and body["error"]["code"]


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
          phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
def test_api_never_fails_and_errors_are_enveloped(case, superuser_token):
    response = case.call(headers={"Authorization": f"Bearer {superuser_token}"})
    assert response.status_code < 500, (response.status_code, response.text[:500],
                                        case.as_curl_command())
    if response.status_code >= 400:
        content_type = (response.headers.get("content-type") or [""])[0]
        assert content_type.startswith("application/json"), response.text[:300]
        assert_envelope(response)
