import pytest
from prometheus_client import REGISTRY

from cart import store
from cart.refs import cart_ref_for_user
from commerce.core.redis import redis_client
from tests.factories import make_item


@pytest.fixture
def item(db):
    """A catalog item with plenty of stock, made through the inventory service."""
    def make(price: str = "10.00", quantity: int = 100, **kw):
        return make_item(price=price, quantity=quantity, **kw)

    return make


@pytest.fixture
def cart(customer):
    return cart_ref_for_user(customer)


def stored(cart_id: str) -> dict:
    """The raw cart hash (for "nothing was written" assertions)."""
    raw = redis_client().hgetall(store.cart_key(cart_id))
    return {k.decode(): v.decode() for k, v in raw.items()}


def stream_events() -> list[dict]:
    entries = redis_client().xrange(store.stream_key())
    return [{k.decode(): v.decode() for k, v in fields.items()} for _id, fields in entries]


def cart_metric(event: str) -> float:
    return REGISTRY.get_sample_value("commerce_cart_events_total", {"event": event}) or 0.0


def checkout_metric(outcome: str) -> float:
    return REGISTRY.get_sample_value("commerce_checkouts_total", {"outcome": outcome}) or 0.0
