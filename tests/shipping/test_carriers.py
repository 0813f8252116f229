"""Each carrier adapter against the simulated carrier service, over HTTP: rates, labels,
tracking, voids, carrier refusals, outages and timeouts (retried, then a clear error), and
webhooks verified the way that carrier signs."""

import json
import time
from decimal import Decimal

import pytest

from commerce.core.http import ExternalUnavailable
from shipping.carriers import get_carrier
from shipping.carriers.base import Address, CarrierRefused, Parcel, WebhookRejected

CARRIERS = ["fedex", "ups", "dhl"]
ORIGIN = Address(name="Warehouse", line1="500 Logistics Way", city="Memphis", region="TN",
                 postal_code="38118", country="US", phone="+19015550100")
HOME = Address(name="Ada Lovelace", line1="1 Main Street", city="New York", region="NY",
               postal_code="10001", country="US")
ABROAD = Address(name="Ada Lovelace", line1="12 St James's Square", city="London",
                 postal_code="SW1Y 4JH", country="GB")
PARCEL = Parcel(weight_kg=Decimal("1.500"), length_cm=Decimal("30.0"),
                width_cm=Decimal("20.0"), height_cm=Decimal("10.0"))


def label(carrier, reference="ref-1", destination=HOME, level="standard"):
    adapter = get_carrier(carrier)
    return adapter.create_label(origin=ORIGIN, destination=destination, parcel=PARCEL,
                                service_code=adapter.service_for(level), reference=reference)


@pytest.mark.parametrize("carrier", CARRIERS)
def test_rates_are_quoted_per_service_level_and_deterministic(carrier_sim, carrier):
    adapter = get_carrier(carrier)
    # when rates are asked twice for the same parcel
    first = adapter.rates(origin=ORIGIN, destination=HOME, parcel=PARCEL, currency="USD")
    again = adapter.rates(origin=ORIGIN, destination=HOME, parcel=PARCEL, currency="USD")
    # then every service level is offered, priced the same both times
    assert [r.service_level for r in first] == ["economy", "standard", "express", "overnight"]
    assert first == again
    assert all(r.carrier == carrier and r.currency == "USD" and r.amount > 0 for r in first)
    assert [r.amount for r in first] == sorted(r.amount for r in first)
    assert all(r.transit_days and r.estimated_delivery for r in first)
    # and abroad costs more
    abroad = adapter.rates(origin=ORIGIN, destination=ABROAD, parcel=PARCEL, currency="USD")
    assert abroad[0].amount > first[0].amount


@pytest.mark.parametrize("carrier", CARRIERS)
def test_a_label_is_a_pdf_and_the_same_key_buys_it_once(carrier_sim, carrier):
    # when a label is bought, then retried with the same idempotency key
    bought = label(carrier, reference="shipment-1")
    retried = label(carrier, reference="shipment-1")
    other = label(carrier, reference="shipment-2")
    # then the carrier made one parcel for the key, with a PDF label and a cost
    assert bought.document.startswith(b"%PDF-") and b"%%EOF" in bought.document
    assert retried.tracking_number == bought.tracking_number
    assert other.tracking_number != bought.tracking_number
    assert bought.cost > 0 and bought.currency == "USD"
    assert len([s for s in carrier_sim.state.shipments.values() if s.carrier == carrier]) == 2


@pytest.mark.parametrize("carrier", CARRIERS)
def test_tracking_follows_the_scripted_progression(carrier_sim, carrier):
    bought = label(carrier)
    adapter = get_carrier(carrier)
    assert adapter.track(tracking_number=bought.tracking_number) == []
    # when the parcel is picked up and moves on
    carrier_sim.advance(bought.tracking_number, steps=2)
    updates = adapter.track(tracking_number=bought.tracking_number)
    assert sorted(u.status for u in updates) == ["in_transit", "in_transit"]
    # when it is delivered
    carrier_sim.advance(bought.tracking_number, steps=2)
    updates = sorted(adapter.track(tracking_number=bought.tracking_number),
                     key=lambda u: u.occurred_at)
    assert [u.status for u in updates][-2:] == ["out_for_delivery", "delivered"]
    assert len({u.key for u in updates}) == 4
    assert all(u.tracking_number == bought.tracking_number for u in updates)


def test_an_exception_address_ends_in_an_exception(carrier_sim):
    bought = label("ups", destination=Address(name="X", line1="1 Nowhere", city="Nome",
                                              postal_code="99999", country="US"))
    carrier_sim.advance(bought.tracking_number, steps=3)
    updates = get_carrier("ups").track(tracking_number=bought.tracking_number)
    assert "exception" in {u.status for u in updates}


@pytest.mark.parametrize("carrier", ["fedex", "ups"])
def test_a_label_is_voided_until_pickup_then_refused(carrier_sim, carrier):
    adapter = get_carrier(carrier)
    first, second = label(carrier, reference="a"), label(carrier, reference="b")
    # a label not yet picked up is voided (and voiding again is fine)
    adapter.void(tracking_number=first.tracking_number)
    adapter.void(tracking_number=first.tracking_number)
    assert carrier_sim.state.shipments[first.tracking_number].voided is True
    # once the carrier has the parcel, the void is refused with the carrier's words
    carrier_sim.advance(second.tracking_number)
    with pytest.raises(CarrierRefused) as refused:
        adapter.void(tracking_number=second.tracking_number)
    assert refused.value.details["carrier"] == carrier
    assert refused.value.details["carrier_code"]
    assert carrier_sim.state.shipments[second.tracking_number].voided is False


def test_dhl_void_needs_no_call(carrier_sim):
    bought = label("dhl")
    calls = len(carrier_sim.state.calls)
    get_carrier("dhl").void(tracking_number=bought.tracking_number)
    assert len(carrier_sim.state.calls) == calls


@pytest.mark.parametrize("carrier", CARRIERS)
def test_a_carrier_refusal_is_a_clear_error_and_not_retried(carrier_sim, carrier):
    # an undeliverable address (the simulator refuses postal code 00000)
    with pytest.raises(CarrierRefused) as refused:
        label(carrier, destination=Address(name="X", line1="1 Nowhere", city="Nowhere",
                                           postal_code="00000", country="US"))
    assert refused.value.http_status == 422
    assert refused.value.code == "carrier_refused"
    assert refused.value.details["carrier"] == carrier
    assert refused.value.details["carrier_message"]
    assert carrier_sim.calls(carrier, "ship") == 1


@pytest.mark.parametrize("carrier", CARRIERS)
def test_a_transient_carrier_error_is_retried(carrier_sim, carrier):
    carrier_sim.fault(carrier=carrier, operation="rate", mode="error", times=1)
    rates = get_carrier(carrier).rates(origin=ORIGIN, destination=HOME, parcel=PARCEL,
                                       currency="USD")
    assert len(rates) == 4
    assert carrier_sim.calls(carrier, "rate") == 2


@pytest.mark.parametrize("carrier", CARRIERS)
def test_a_carrier_timing_out_is_retried_then_unavailable(carrier_sim, carrier):
    # given a carrier answering later than our timeout, every time
    carrier_sim.fault(carrier=carrier, operation="ship", mode="timeout", delay=1.0, times=5)
    # when a label is bought, then each bounded attempt times out and the error says so
    with pytest.raises(ExternalUnavailable) as unavailable:
        label(carrier)
    assert unavailable.value.http_status == 503
    assert unavailable.value.details["error"] == "ReadTimeout"
    assert carrier_sim.calls(carrier, "ship") == 3


@pytest.mark.parametrize("carrier", ["fedex", "ups"])
def test_an_expired_token_is_renewed_once(carrier_sim, carrier):
    adapter = get_carrier(carrier)
    adapter.rates(origin=ORIGIN, destination=HOME, parcel=PARCEL, currency="USD")
    carrier_sim.state.tokens.clear()  # the carrier revoked every token
    assert len(adapter.rates(origin=ORIGIN, destination=HOME, parcel=PARCEL,
                             currency="USD")) == 4
    assert carrier_sim.calls(carrier, "token") == 2


@pytest.mark.parametrize("carrier", CARRIERS)
def test_a_signed_webhook_is_read_and_a_tampered_one_rejected(carrier_sim, carrier):
    bought = label(carrier)
    [push] = carrier_sim.advance(bought.tracking_number)
    adapter = get_carrier(carrier)
    # the push as the carrier signed it is read
    [update] = adapter.parse_webhook(headers=push["headers"], body=push["body"].encode())
    assert (update.tracking_number, update.status) == (bought.tracking_number, "in_transit")
    # a changed body (UPS signs nothing but sends its credential: a wrong one), or no
    # signature at all, is refused
    if carrier == "ups":
        forged = {**push["headers"], "credential": "guessed"}
        with pytest.raises(WebhookRejected):
            adapter.parse_webhook(headers=forged, body=push["body"].encode())
    else:
        tampered = push["body"].replace(bought.tracking_number, "0000000000").encode()
        with pytest.raises(WebhookRejected):
            adapter.parse_webhook(headers=push["headers"], body=tampered)
    with pytest.raises(WebhookRejected):
        adapter.parse_webhook(headers={}, body=push["body"].encode())


def test_a_stale_dhl_push_is_refused(carrier_sim, settings):
    bought = label("dhl")
    [push] = carrier_sim.advance(bought.tracking_number)
    settings.SHIPPING_WEBHOOK_TOLERANCE_SECONDS = 300
    stale = str(int(time.time()) - 301)
    import hashlib
    import hmac
    body = push["body"].encode()
    signature = hmac.new(settings.DHL_WEBHOOK_SECRET.encode(), f"{stale}.".encode() + body,
                         hashlib.sha256).hexdigest()
    with pytest.raises(WebhookRejected) as rejected:
        get_carrier("dhl").parse_webhook(
            headers={"DHL-Timestamp": stale, "DHL-Signature": f"sha256={signature}"}, body=body)
    assert "window" in rejected.value.message
    assert json.loads(body)["shipments"][0]["id"] == bought.tracking_number


@pytest.mark.parametrize("carrier", CARRIERS)
def test_an_unreadable_answer_is_the_carrier_failing_not_a_crash(carrier_sim, carrier):
    carrier_sim.fault(carrier=carrier, operation="ship", mode="garbage", times=1)
    with pytest.raises(ExternalUnavailable) as unavailable:
        label(carrier)
    assert unavailable.value.details["operation"] == "ship"
    assert unavailable.value.http_status == 503


def test_production_needs_the_credentials_of_each_carrier_it_uses():
    from tests.commerce.test_production_settings import PROVIDER_SECRETS, SECRET, manage

    required = {"DJANGO_SECRET_KEY": SECRET, "DJANGO_ALLOWED_HOSTS": "shop.example.com",
                **PROVIDER_SECRETS, "SHIPPING_CARRIERS": "ups"}
    missing = manage("check", **required)
    assert missing.returncode != 0 and "UPS_API_URL" in missing.stderr
    given = manage("check", **required, UPS_API_URL="https://onlinetools.ups.com",
                   UPS_ACCOUNT_NUMBER="A1", UPS_CLIENT_ID="id", UPS_CLIENT_SECRET="s",
                   UPS_WEBHOOK_CREDENTIAL="c")
    assert given.returncode == 0, given.stderr
