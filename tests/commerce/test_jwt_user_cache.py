"""The JWT authentication keeps the user behind a token, and the validated token, for a short
while per process."""

import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from commerce.api.authentication import CachedJWTAuthentication
from tests.conftest import auth_client

pytestmark = pytest.mark.django_db


def user_reads(client, url="/api/v1/auth/me/") -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return sum('FROM "users"' in q["sql"] for q in queries)


def test_the_user_is_read_once_then_kept(customer):
    api = auth_client(customer)
    assert user_reads(api) == 1
    assert user_reads(api) == 0


def test_a_deactivated_user_is_refused_once_the_cache_forgets_them(customer, settings):
    # given a user authenticated and remembered
    api = auth_client(customer)
    assert api.get("/api/v1/auth/me/").status_code == 200
    # when they are deactivated and their entry ages out (or the cache is off)
    customer.is_active = False
    customer.save(update_fields=["is_active"])
    CachedJWTAuthentication.forget(customer.pk)
    # then their token no longer works
    response = api.get("/api/v1/auth/me/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_with_the_cache_off_every_request_reads_the_user(customer, settings):
    settings.AUTH_USER_CACHE_SECONDS = 0
    api = auth_client(customer)
    assert [user_reads(api), user_reads(api)] == [1, 1]


def test_a_kept_token_is_refused_once_it_expires(customer):
    # given a token valid for two more seconds, accepted (and so kept)
    token = AccessToken.for_user(customer)
    token.set_exp(lifetime=timedelta(seconds=2))  # whole seconds: at least 1 s left
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api.get("/api/v1/auth/me/").status_code == 200
    # when its exp passes
    time.sleep(2.2)
    # then the same bytes are refused: the cache never outlives the token
    response = api.get("/api/v1/auth/me/")
    assert response.status_code == 401


def test_a_token_with_another_signature_is_refused_while_the_real_one_is_kept(customer):
    # given the customer's real token accepted (and so kept)
    token = str(AccessToken.for_user(customer))
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api.get("/api/v1/auth/me/").status_code == 200
    # when the same header and claims come with a forged signature
    forged = token.rsplit(".", 1)[0] + ".c2lnbmF0dXJlLWZvcmdlZC1ieS1zb21lb25lLWVsc2U"
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {forged}")
    # then it is refused
    assert api.get("/api/v1/auth/me/").status_code == 401
