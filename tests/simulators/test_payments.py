"""The payment processor simulator speaks Stripe's protocol: raw HTTP, no adapter."""

import asyncio
import os
import signal
import subprocess
import sys
import threading

import httpx
import pytest

from simulators.payments import DEFAULT_API_KEY
from simulators.server import free_port
from tests.integration.worker import ROOT, wait_for

AUTH = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}
INTENT = {"amount": "2550", "currency": "usd", "payment_method": "pm_card_visa",
          "confirm": "true", "capture_method": "manual", "metadata[order_id]": "o-1"}


@pytest.fixture
def stripe(payment_processor):
    with httpx.Client(base_url=payment_processor.url, headers=AUTH, timeout=10) as client:
        yield client


def post(client, path, data, key=None):
    return client.post(path, data=data, headers={"Idempotency-Key": key} if key else None)


def test_api_key_is_required(payment_processor):
    missing = httpx.post(f"{payment_processor.url}/v1/payment_intents", data=INTENT)
    wrong = httpx.post(f"{payment_processor.url}/v1/payment_intents", data=INTENT,
                       headers={"Authorization": "Bearer sk_test_someone_else"})
    assert (missing.status_code, wrong.status_code) == (401, 401)
    assert missing.json()["error"]["type"] == "invalid_request_error"
    assert "Invalid API Key provided: sk_test_" in wrong.json()["error"]["message"]
    assert payment_processor.payment_intents() == []


def test_a_form_encoded_intent_is_authorized_and_shaped_like_stripes(stripe):
    response = post(stripe, "/v1/payment_intents", INTENT)
    assert response.status_code == 200
    intent = response.json()
    assert intent["id"].startswith("pi_") and intent["latest_charge"].startswith("ch_")
    assert {k: intent[k] for k in ("object", "amount", "amount_capturable", "amount_received",
                                   "currency", "status", "metadata", "livemode")} == {
        "object": "payment_intent", "amount": 2550, "amount_capturable": 2550,
        "amount_received": 0, "currency": "usd", "status": "requires_capture",
        "metadata": {"order_id": "o-1"}, "livemode": False}
    assert stripe.get(f"/v1/payment_intents/{intent['id']}").json() == intent


def test_parameters_are_validated_like_stripe(stripe):
    missing = post(stripe, "/v1/payment_intents", {**INTENT, "amount": ""})
    upper = post(stripe, "/v1/payment_intents", {**INTENT, "currency": "USD"})
    unknown = stripe.get("/v1/payment_intents/pi_nope")
    assert (missing.status_code, missing.json()["error"]["code"]) == (400, "parameter_missing")
    assert (upper.status_code, upper.json()["error"]["param"]) == (400, "currency")
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "resource_missing")
    assert stripe.get("/v1/nothing").status_code == 404


def test_same_key_replays_the_stored_answer_with_the_replay_header(stripe, payment_processor):
    first = post(stripe, "/v1/payment_intents", INTENT, key="k1")
    again = post(stripe, "/v1/payment_intents", INTENT, key="k1")
    assert "Idempotent-Replayed" not in first.headers
    assert (again.status_code, again.content) == (200, first.content)
    assert again.headers["Idempotent-Replayed"] == "true"
    other = post(stripe, "/v1/payment_intents", {**INTENT, "amount": "100"}, key="k1")
    assert (other.status_code, other.json()["error"]["type"]) == (400, "idempotency_error")
    assert len(payment_processor.payment_intents()) == 1


def test_declines_are_stored_and_replayed_but_parameter_errors_are_not(stripe,
                                                                       payment_processor):
    declined = post(stripe, "/v1/payment_intents",
                    {**INTENT, "payment_method": "pm_card_chargeDeclined"}, key="d")
    assert declined.status_code == 402
    error = declined.json()["error"]
    assert (error["type"], error["code"], error["decline_code"]) == (
        "card_error", "card_declined", "generic_decline")
    assert error["payment_intent"]["status"] == "requires_payment_method"
    replay = post(stripe, "/v1/payment_intents",
                  {**INTENT, "payment_method": "pm_card_chargeDeclined"}, key="d")
    assert (replay.status_code, replay.content) == (402, declined.content)
    # a request refused before executing leaves its key free for the corrected request
    assert post(stripe, "/v1/payment_intents", {**INTENT, "amount": "x"}, key="p").status_code \
        == 400
    assert post(stripe, "/v1/payment_intents", INTENT, key="p").status_code == 200
    assert len(payment_processor.payment_intents()) == 2


def test_capture_cancel_and_refund_follow_the_intent_states(stripe):
    intent = post(stripe, "/v1/payment_intents", INTENT).json()
    path = f"/v1/payment_intents/{intent['id']}"
    too_much = post(stripe, f"{path}/capture", {"amount_to_capture": "2551"})
    assert (too_much.status_code, too_much.json()["error"]["code"]) == (400, "amount_too_large")
    captured = post(stripe, f"{path}/capture", {"amount_to_capture": "2000"}).json()
    assert (captured["status"], captured["amount_received"], captured["amount_capturable"]) == (
        "succeeded", 2000, 0)
    cancel = post(stripe, f"{path}/cancel", {})
    assert cancel.json()["error"]["code"] == "payment_intent_unexpected_state"
    refunds = [post(stripe, "/v1/refunds", {"payment_intent": intent["id"], "amount": a,
                                             "metadata[idempotency_key]": f"r{a}"}).json()
               for a in ("500", "1500")]
    assert [(r["object"], r["amount"], r["status"]) for r in refunds] == [
        ("refund", 500, "succeeded"), ("refund", 1500, "succeeded")]
    again = post(stripe, "/v1/refunds", {"payment_intent": intent["id"], "amount": "1"})
    assert again.json()["error"]["code"] == "charge_already_refunded"
    listed = stripe.get("/v1/refunds", params={"payment_intent": intent["id"]}).json()
    assert (listed["object"], [r["id"] for r in listed["data"]]) == (
        "list", [refunds[1]["id"], refunds[0]["id"]])  # newest first


def test_search_by_metadata_and_status(stripe):
    ids = [post(stripe, "/v1/payment_intents", {**INTENT, "metadata[order_id]": order}).json()
           ["id"] for order in ("o-1", "o-2", "o-2")]
    post(stripe, f"/v1/payment_intents/{ids[2]}/cancel", {})

    def search(query):
        response = stripe.get("/v1/payment_intents/search", params={"query": query})
        assert response.json()["object"] == "search_result", response.text
        return sorted(i["id"] for i in response.json()["data"])

    assert search("metadata['order_id']:'o-2'") == sorted(ids[1:])
    assert search("metadata['order_id']:'o-2' AND status:'requires_capture'") == [ids[1]]
    assert search("currency:'usd' AND amount:2550") == sorted(ids)
    assert search("metadata['order_id']:'none'") == []
    bad = stripe.get("/v1/payment_intents/search", params={"query": "amount>1 OR x"})
    assert (bad.status_code, bad.json()["error"]["param"]) == (400, "query")


def test_injected_faults_happen_before_executing(stripe, payment_processor):
    payment_processor.inject("error")
    payment_processor.inject("drop")
    failed = post(stripe, "/v1/payment_intents", INTENT, key="f")
    assert (failed.status_code, failed.json()["error"]["type"]) == (500, "api_error")
    with pytest.raises(httpx.RemoteProtocolError):
        post(stripe, "/v1/payment_intents", INTENT, key="f")
    assert payment_processor.payment_intents() == []
    # the key was never used: the retry executes
    assert "Idempotent-Replayed" not in post(stripe, "/v1/payment_intents", INTENT,
                                             key="f").headers
    assert len(payment_processor.payment_intents()) == 1


def test_a_key_in_flight_answers_409_until_its_first_request_finishes(payment_processor):
    payment_processor.inject("stall")

    async def scenario():
        async with httpx.AsyncClient(base_url=payment_processor.url, headers={
                **AUTH, "Idempotency-Key": "k"}, timeout=10) as client:
            first = asyncio.ensure_future(client.post("/v1/payment_intents", data=INTENT))
            while payment_processor.stats()["in_flight"] == 0:
                await asyncio.sleep(0.02)
            second = await client.post("/v1/payment_intents", data=INTENT)
            payment_processor.release()
            return await first, second

    first, second = asyncio.run(scenario())
    assert (second.status_code, second.json()["error"]["code"]) == (
        409, "idempotency_key_in_use")
    assert first.status_code == 200
    assert len(payment_processor.payment_intents()) == 1


def test_latency_keeps_many_calls_in_flight_at_once(payment_processor):
    # given every answer takes 3 s
    payment_processor.configure(latency_ms=3000)

    async def burst():
        async with httpx.AsyncClient(base_url=payment_processor.url, headers=AUTH, timeout=30,
                                     limits=httpx.Limits(max_connections=100)) as client:
            calls = asyncio.gather(*[
                client.post("/v1/payment_intents", data=INTENT,
                            headers={"Idempotency-Key": f"k{i}"}) for i in range(50)])
            peak = 0
            while not calls.done():
                stats = (await client.get("/_sim/stats")).json()
                peak = max(peak, stats["in_flight"])
                await asyncio.sleep(0.05)
            return peak, await calls

    # when 50 calls are sent together
    peak, responses = asyncio.run(burst())
    # then they were all executing at the same moment, not one after another
    assert peak == 50
    assert {r.status_code for r in responses} == {200}
    assert len(payment_processor.payment_intents()) == 50


def test_reset_forgets_everything_and_keeps_waiting_requests_out(stripe, payment_processor):
    # given a recorded intent and a request waiting before it executes
    post(stripe, "/v1/payment_intents", INTENT, key="old")
    payment_processor.inject("stall")
    waiting: dict = {}
    thread = threading.Thread(target=lambda: waiting.update(
        response=post(stripe, "/v1/payment_intents", INTENT, key="waiting")))
    thread.start()
    wait_for(lambda: payment_processor.stats()["in_flight"] == 1, timeout=10,
             what="the request to wait at the processor")
    # when the processor is reset
    payment_processor.reset()
    thread.join(10)
    # then the waiting request executed nothing, and the new books are empty
    assert waiting["response"].status_code == 500
    assert payment_processor.payment_intents() == []
    assert payment_processor.stats() == {"idempotency_keys": 0, "in_flight": 0}
    assert "Idempotent-Replayed" not in post(stripe, "/v1/payment_intents", INTENT,
                                             key="old").headers


@pytest.mark.parametrize("command", [["-m", "simulators", "payments"],
                                     ["-m", "simulators.payments", "--latency-ms", "5"]])
def test_it_runs_on_its_own(command):
    port = free_port()
    env = {**os.environ, "PAYMENT_SIMULATOR_PORT": str(port)}
    proc = subprocess.Popen([sys.executable, *command], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        def answers():
            try:
                return httpx.post(f"http://127.0.0.1:{port}/v1/payment_intents", data=INTENT,
                                  headers=AUTH, timeout=2)
            except httpx.TransportError:
                return None
        response = wait_for(answers, timeout=30, what="the simulator to listen")
        assert response.json()["status"] == "requires_capture"
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(10)
