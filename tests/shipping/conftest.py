"""Shipping tests run the carrier adapters against the carrier simulator over real HTTP, on
a free port per test (no auto-progress, no pushes: tests advance parcels and deliver the
signed webhooks the simulator builds through the test client)."""

import functools

import httpx
import pytest

from simulators.carriers import create_app
from simulators.carriers.core import STATE
from simulators.server import serve_in_thread


class CarrierSim:
    def __init__(self, server):
        self.server = server
        self.url = server.url
        self.state = server.app[STATE]

    def post(self, path: str, body: dict) -> dict:
        return httpx.post(f"{self.url}{path}", json=body, timeout=10).json()

    def fault(self, **fault) -> None:
        self.post("/_sim/faults", fault)

    def advance(self, tracking_number: str, steps: int = 1) -> list[dict]:
        """Move the parcel on; returns the signed webhook requests the carrier would push."""
        return self.post("/_sim/advance", {"tracking_number": tracking_number,
                                           "steps": steps})["webhooks"]

    def calls(self, carrier: str, operation: str) -> int:
        return sum(1 for c in self.state.calls
                   if c["carrier"] == carrier and c["operation"] == operation)


@pytest.fixture
def carrier_sim(settings, monkeypatch):
    # Carrier clients are kept per (carrier, URL); a new simulator may get an earlier one's
    # port, and a kept client would then bring a token this simulator never issued (a 401
    # and a renewed token: one call more than the test expects). Each test starts afresh.
    monkeypatch.setattr("shipping.carriers._instances", {})
    factory = functools.partial(create_app, step_seconds=None, webhook_url=None)
    with serve_in_thread(factory) as server:
        settings.FEDEX_API_URL = f"{server.url}/fedex"
        settings.UPS_API_URL = f"{server.url}/ups"
        settings.DHL_API_URL = f"{server.url}/dhl/mydhlapi"
        settings.CARRIER_TIMEOUT_SECONDS = 0.5
        yield CarrierSim(server)


ADDRESS = {"name": "Ada Lovelace", "line1": "1 Main Street", "city": "New York",
           "region": "NY", "postal_code": "10001", "country": "US"}


@pytest.fixture
def three_items(db):
    """Three catalog items with shipping measures, 50 units each."""
    from tests.factories import make_item
    return [make_item(price="10.00", quantity=50, weight_kg="0.400", length_cm="20",
                      width_cm="15", height_cm="5"),
            make_item(price="25.00", quantity=50, weight_kg="1.200", length_cm="35",
                      width_cm="25", height_cm="10"),
            make_item(price="4.00", quantity=50)]


@pytest.fixture
def confirmed_order(customer, three_items, django_capture_on_commit_callbacks):
    """A 3-line order (2 + 3 + 4 units, 103.00) placed and run through the real fulfilment
    saga (payment captured by the simulated processor): confirmed."""
    from orders.selectors import order_get
    from orders.services import order_place

    def place(**kw):
        with django_capture_on_commit_callbacks(execute=True):
            order = order_place(
                customer_id=customer.id, shipping_address=kw.pop("address", ADDRESS),
                payment_method="pm_card_visa",
                lines=[{"sku": three_items[0].sku, "quantity": 2},
                       {"sku": three_items[1].sku, "quantity": 3},
                       {"sku": three_items[2].sku, "quantity": 4}], **kw)
        assert order_get(order_id=order.order_id).status == "confirmed"
        return order_get(order_id=order.order_id)

    return place


def deliver_webhook(client, push: dict):
    """Deliver a signed push the simulator built, as the carrier would, to our endpoint."""
    return client.post(f"/api/v1/shipping/webhooks/{push['carrier']}/", data=push["body"],
                       content_type="application/json",
                       headers={k: v for k, v in push["headers"].items()
                                if k.lower() != "content-type"})
