"""The Stripe adapter against the payment processor simulator, over real HTTP."""

import threading
from decimal import Decimal

import pytest

from commerce.core.errors import ServiceUnavailable, ValidationFailed
from payments.gateways import (
    GatewayAuthenticationFailed,
    GatewayRefused,
    GatewayResult,
    GatewayTimeout,
    PaymentDeclined,
)
from payments.gateways.stripe_api import StripeGateway, from_minor_units, to_minor_units
from tests.concurrency import run_concurrently
from tests.integration.worker import wait_for


@pytest.fixture
def gateway(payment_processor):
    return StripeGateway(base_url=payment_processor.url)


def authorize(gateway, key="auth-1", amount="25.50", method="pm_card_visa", currency="USD"):
    return gateway.authorize(amount=Decimal(amount), currency=currency, payment_method=method,
                             idempotency_key=key)


def test_authorize_capture_refund_and_void_move_money_at_the_processor(
        gateway, payment_processor):
    # when an authorization is captured and partly refunded
    authorized = authorize(gateway)
    captured = gateway.capture(reference=authorized.reference, amount=Decimal("20.00"),
                               idempotency_key="cap-1")
    refunded = gateway.refund(reference=authorized.reference, amount=Decimal("5.50"),
                              idempotency_key="ref-1")
    # then each call reports what it moved, in our Decimal money
    assert authorized == GatewayResult(authorized.reference, "requires_capture", Decimal("25.50"))
    assert authorized.reference.startswith("pi_")
    assert captured == GatewayResult(authorized.reference, "succeeded", Decimal("20.00"))
    assert refunded == GatewayResult(authorized.reference, "succeeded", Decimal("5.50"))
    # and the processor holds a manual-capture intent in minor units, tagged with our key
    intent = payment_processor.payment_intent(authorized.reference)
    assert {k: intent[k] for k in ("amount", "amount_capturable", "amount_received",
                                   "amount_refunded", "currency", "capture_method", "status",
                                   "metadata")} == {
        "amount": 2550, "amount_capturable": 0, "amount_received": 2000,
        "amount_refunded": 550, "currency": "usd", "capture_method": "manual",
        "status": "succeeded", "metadata": {"idempotency_key": "auth-1"}}
    assert [(r["amount"], r["metadata"]) for r in payment_processor.refunds()] == [
        (550, {"idempotency_key": "ref-1"})]
    # when another authorization is voided
    other = authorize(gateway, key="auth-2", amount="7.00")
    voided = gateway.void(reference=other.reference, idempotency_key="void-2")
    assert voided == GatewayResult(other.reference, "canceled", Decimal("7.00"))
    assert payment_processor.payment_intent(other.reference)["amount_capturable"] == 0


def test_declined_card_is_a_business_refusal_and_authorizes_nothing(gateway, payment_processor):
    # when
    with pytest.raises(PaymentDeclined) as declined:
        authorize(gateway, key="dec", method="pm_card_chargeDeclined")
    # then the processor's 402 card_error becomes PaymentDeclined (not transient)
    assert declined.value.code == "payment_declined"
    assert not isinstance(declined.value, ServiceUnavailable)
    assert declined.value.details["decline_code"] == "generic_decline"
    (intent,) = payment_processor.payment_intents()
    assert (intent["status"], intent["amount_capturable"]) == ("requires_payment_method", 0)
    assert payment_processor.stats()["requests"] == 1  # never retried
    # and the same key gets the same decline, stored by the processor
    with pytest.raises(PaymentDeclined):
        authorize(gateway, key="dec", method="pm_card_chargeDeclined")
    assert len(payment_processor.payment_intents()) == 1
    assert payment_processor.stats()["replayed"] == 1
    assert gateway.find_authorization(idempotency_key="dec") is None


def test_unknown_payment_method_is_declined(gateway, payment_processor):
    with pytest.raises(PaymentDeclined):
        authorize(gateway, method="pm_nonsense")
    assert [i["amount_capturable"] for i in payment_processor.payment_intents()] == [0]


def test_replay_with_the_same_key_returns_the_same_intent(gateway, payment_processor):
    # when the same authorization is sent twice with one key
    first = authorize(gateway, key="same")
    second = authorize(gateway, key="same")
    # then one charge, the second answer replayed
    assert second == first
    assert len(payment_processor.payment_intents()) == 1
    assert payment_processor.stats()["replayed"] == 1


def test_same_key_with_other_parameters_is_refused(gateway, payment_processor):
    first = authorize(gateway, key="same", amount="1.00")
    # when the key is reused for another amount
    with pytest.raises(GatewayRefused) as refused:
        authorize(gateway, key="same", amount="2.00")
    # then the processor refuses it and the original stays the only charge
    assert refused.value.code == "idempotency_key_reused"
    assert refused.value.details["type"] == "idempotency_error"
    assert [(i["id"], i["amount"]) for i in payment_processor.payment_intents()] == [
        (first.reference, 100)]


def test_timeout_then_retry_with_the_same_key_finds_the_original_charge(payment_processor):
    # given a processor that charges, then answers later than we wait, for as many
    # requests as one gateway call makes
    gateway = StripeGateway(base_url=payment_processor.url, timeout=0.5)
    payment_processor.configure(timeouts_per_key=gateway.retry.attempts)
    # when the call times out
    with pytest.raises(GatewayTimeout) as timed_out:
        authorize(gateway, key="slow", method="pm_card_timeout")
    assert timed_out.value.code == "payment_gateway_timeout"
    # then the charge exists all the same, and reconciliation by key finds it
    (intent,) = payment_processor.payment_intents()
    found = gateway.find_authorization(idempotency_key="slow")
    assert found == GatewayResult(intent["id"], "requires_capture", Decimal("25.50"))
    # and retrying with the same key returns that charge: exactly one
    assert authorize(gateway, key="slow", method="pm_card_timeout") == found
    assert len(payment_processor.payment_intents()) == 1


def test_find_authorization_and_find_refund_know_only_what_happened(gateway):
    authorized = authorize(gateway, key="a-1")
    gateway.capture(reference=authorized.reference, amount=Decimal("25.50"),
                    idempotency_key="c-1")
    gateway.refund(reference=authorized.reference, amount=Decimal("1.00"),
                   idempotency_key="r-1")
    assert gateway.find_authorization(idempotency_key="a-1") == GatewayResult(
        authorized.reference, "succeeded", Decimal("25.50"))
    assert gateway.find_authorization(idempotency_key="never-sent") is None
    assert gateway.find_refund(reference=authorized.reference, idempotency_key="r-1") == (
        GatewayResult(authorized.reference, "succeeded", Decimal("1.00")))
    assert gateway.find_refund(reference=authorized.reference, idempotency_key="r-2") is None


@pytest.mark.parametrize("mode", ["error", "drop"])
def test_transient_failures_are_retried_then_succeed(gateway, payment_processor, mode):
    # given the processor fails every attempt but the last of one call (500, or a dropped
    # connection), before executing anything
    payment_processor.inject(mode, count=gateway.retry.attempts - 1)
    # when
    result = authorize(gateway)
    # then the call succeeds with one charge
    assert result.status == "requires_capture"
    assert len(payment_processor.payment_intents()) == 1
    assert payment_processor.stats()["requests"] == gateway.retry.attempts


def test_persistent_5xx_becomes_a_gateway_timeout(gateway, payment_processor):
    payment_processor.inject("error", count=gateway.retry.attempts)
    with pytest.raises(GatewayTimeout) as timed_out:
        authorize(gateway)
    assert isinstance(timed_out.value, ServiceUnavailable)  # transient: callers retry later
    assert payment_processor.payment_intents() == []
    assert payment_processor.stats()["requests"] == gateway.retry.attempts


def test_a_bad_api_key_is_a_clear_configuration_error(payment_processor):
    gateway = StripeGateway(base_url=payment_processor.url, api_key="sk_test_not_ours")
    with pytest.raises(GatewayAuthenticationFailed) as failed:
        authorize(gateway)
    assert failed.value.code == "payment_gateway_unauthorized"
    assert "PAYMENT_API_KEY" in failed.value.message
    assert failed.value.details["status"] == 401
    assert payment_processor.payment_intents() == []
    assert payment_processor.stats()["requests"] == 1  # a refusal is not retried


def test_capture_of_a_canceled_intent_is_refused(gateway, payment_processor):
    authorized = authorize(gateway)
    gateway.void(reference=authorized.reference, idempotency_key="void")
    with pytest.raises(GatewayRefused) as refused:
        gateway.capture(reference=authorized.reference, amount=Decimal("25.50"),
                        idempotency_key="cap")
    assert refused.value.code == "invalid_payment_state"
    assert refused.value.details["code"] == "payment_intent_unexpected_state"
    intent = payment_processor.payment_intent(authorized.reference)
    assert (intent["status"], intent["amount_received"]) == ("canceled", 0)


def test_refund_above_what_was_captured_is_refused(gateway, payment_processor):
    authorized = authorize(gateway, amount="10.00")
    gateway.capture(reference=authorized.reference, amount=Decimal("10.00"),
                    idempotency_key="cap")
    with pytest.raises(GatewayRefused):
        gateway.refund(reference=authorized.reference, amount=Decimal("10.01"),
                       idempotency_key="ref")
    assert payment_processor.refunds() == []


def test_a_request_while_the_first_with_its_key_runs_is_transient(gateway, payment_processor):
    # given a first authorization held at the processor while it executes
    payment_processor.inject("stall")
    first: dict = {}
    thread = threading.Thread(target=lambda: first.update(result=authorize(gateway, key="k")))
    thread.start()
    wait_for(lambda: payment_processor.stats()["in_flight"] == 1, timeout=10,
             what="the first request to be in flight")
    # when the same request arrives meanwhile, on every attempt
    with pytest.raises(GatewayTimeout):
        authorize(gateway, key="k")
    # then each attempt got 409 idempotency_key_in_use, nothing was charged twice
    assert payment_processor.stats()["idempotency_key_in_use"] == gateway.retry.attempts
    payment_processor.release()
    thread.join(10)
    # and once the first finished, a retry gets its answer
    assert authorize(gateway, key="k") == first["result"]
    assert len(payment_processor.payment_intents()) == 1


def test_concurrent_duplicates_with_one_key_charge_once(gateway, payment_processor):
    # given answers that take a while, so the duplicates overlap at the processor
    payment_processor.configure(latency_ms=200)
    # when eight threads send the same authorization at once
    results = run_concurrently([lambda: authorize(gateway, key="dup")] * 8)
    # then all got the one charge (replayed to seven of them, after 409s while it ran)
    assert len({r.reference for r in results}) == 1, results
    assert len(payment_processor.payment_intents()) == 1
    assert payment_processor.stats()["replayed"] == 7


def test_money_is_sent_in_minor_units_of_two_decimal_currencies_only(gateway,
                                                                     payment_processor):
    assert to_minor_units(Decimal("25.50")) == 2550
    assert to_minor_units(Decimal("0.01"), "usd") == 1
    assert from_minor_units(5) == Decimal("0.05")
    assert str(from_minor_units(0)) == "0.00"
    with pytest.raises(ValidationFailed):
        to_minor_units(Decimal("1.005"))
    with pytest.raises(ValidationFailed):
        authorize(gateway, currency="JPY", amount="100.00")
    assert payment_processor.stats().get("requests", 0) == 0
