"""Shared fixtures. Test data is made through real services (accounts.services), against
the real PostgreSQL and Redis of the machine."""

import uuid

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from commerce.accounts import roles
from commerce.accounts.services import staff_create, user_register
from commerce.api.authentication import CachedJWTAuthentication
from commerce.core.redis import redis_client
from simulators.payments import create_app as create_payment_processor
from simulators.server import serve_in_thread
from tests.payment_processor import ProcessorControl

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(autouse=True)
def _clean_redis():
    """Each test starts with an empty test Redis database (its own db number) and no user
    remembered by the JWT authentication's per-process cache."""
    redis_client().flushdb()
    CachedJWTAuthentication.forget()
    yield


@pytest.fixture(scope="session")
def _payment_processor_server():
    """One Stripe-shaped payment processor simulator for the session, on a free port."""
    with serve_in_thread(create_payment_processor) as server:
        control = ProcessorControl(server)
        yield control
        control.reset()  # release answers still held back, so the server stops at once


@pytest.fixture(autouse=True)
def payment_processor(_payment_processor_server, settings):
    """Every test's payment gateway talks HTTP to the session's simulator, reset first
    (real worker processes get its URL through tests/integration/worker.py)."""
    settings.PAYMENT_API_BASE_URL = _payment_processor_server.url
    _payment_processor_server.reset()
    return _payment_processor_server


@pytest.fixture
def make_customer(db):
    def make(email: str | None = None):
        return user_register(email=email or f"c-{uuid.uuid4().hex[:10]}@example.com",
                             password=PASSWORD)

    return make


@pytest.fixture
def customer(make_customer):
    return make_customer()


@pytest.fixture
def make_staff(db):
    def make(*role_names: str, email: str | None = None):
        return staff_create(email=email or f"s-{uuid.uuid4().hex[:10]}@example.com",
                            password=PASSWORD, roles=role_names or (roles.ADMIN,))

    return make


@pytest.fixture
def staff(make_staff):
    return make_staff(roles.ADMIN)


def auth_client(user) -> APIClient:
    client = APIClient()
    if user is not None:
        token = RefreshToken.for_user(user).access_token
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def api():
    """An unauthenticated client."""
    return APIClient()


@pytest.fixture
def customer_api(customer):
    return auth_client(customer)


@pytest.fixture
def staff_api(staff):
    return auth_client(staff)
