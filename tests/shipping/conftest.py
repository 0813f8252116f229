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
def carrier_sim(settings):
    factory = functools.partial(create_app, step_seconds=None, webhook_url=None)
    with serve_in_thread(factory) as server:
        settings.FEDEX_API_URL = f"{server.url}/fedex"
        settings.UPS_API_URL = f"{server.url}/ups"
        settings.DHL_API_URL = f"{server.url}/dhl/mydhlapi"
        settings.CARRIER_TIMEOUT_SECONDS = 0.5
        yield CarrierSim(server)
