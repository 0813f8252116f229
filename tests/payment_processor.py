"""The payment processor simulator as tests see it: one server for the whole session
(tests/conftest.py), reset before every test, scripted and inspected through its /_sim/
endpoints (the same controls a developer has against `python -m simulators payments`)."""

import httpx

from simulators.server import RunningServer


class ProcessorControl:
    def __init__(self, server: RunningServer):
        self.server = server
        self.url = server.url
        self.http = httpx.Client(base_url=server.url, timeout=10)

    def reset(self) -> None:
        """Forget every intent, refund and idempotency key; default knobs; no faults; wake
        any answer still held back."""
        self.http.post("/_sim/reset").raise_for_status()

    def configure(self, **knobs) -> dict:
        """latency_ms, hang_seconds, timeouts_per_key, api_key (until the next reset)."""
        response = self.http.post("/_sim/config", json=knobs)
        response.raise_for_status()
        return response.json()

    def inject(self, mode: str, count: int = 1) -> None:
        """The next `count` API requests: "error" (500 before executing), "drop" (the
        connection dies before executing), "stall" (held before executing, its key in
        flight) or "hang" (executed, answer held back); held ones wait for `release()`
        or the `hang_seconds` knob."""
        self.http.post("/_sim/faults", json={"mode": mode, "count": count}).raise_for_status()

    def release(self) -> None:
        self.http.post("/_sim/release").raise_for_status()

    def payment_intents(self, **metadata) -> list[dict]:
        """Every intent the processor recorded (oldest first, with `amount_refunded`),
        optionally only those whose metadata has these values."""
        intents = self.http.get("/_sim/payment_intents").json()["data"]
        return [i for i in intents
                if all(i["metadata"].get(k) == v for k, v in metadata.items())]

    def payment_intent(self, intent_id: str) -> dict:
        (intent,) = [i for i in self.payment_intents() if i["id"] == intent_id]
        return intent

    def refunds(self) -> list[dict]:
        return self.http.get("/_sim/refunds").json()["data"]

    def stats(self) -> dict:
        """Counters (requests, payment_intents, replayed, idempotency_key_in_use,
        idempotency_error, held) and gauges (in_flight, idempotency_keys); absent = 0."""
        return self.http.get("/_sim/stats").json()
