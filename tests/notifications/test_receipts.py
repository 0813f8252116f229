"""Provider delivery receipts: the simulators POST them to our endpoints over HTTP (a live
server), signed; they move a sent delivery to delivered / failed / bounced. Unsigned or
tampered receipts change nothing."""

import json
import time
from urllib.parse import urlencode

import pytest
from django.urls import reverse

from notifications.models import Delivery
from notifications.signature import HEADER, sign, twilio_signature
from simulators import push as push_sim
from tests.integration.worker import wait_for
from tests.notifications.conftest import make_delivery

PHONE = "+14155550123"


@pytest.fixture
def public_url(live_server, settings):
    """Our API as providers reach it (callbacks and signatures use PUBLIC_BASE_URL)."""
    settings.PUBLIC_BASE_URL = live_server.url
    return live_server.url


def status_of(delivery) -> str:
    return Delivery.objects.get(pk=delivery.pk).status


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("number,final", [(PHONE, "delivered"), ("+14155550000", "failed")])
def test_sms_status_callbacks_update_the_delivery(public_url, sms_server, number, final):
    # when an SMS is sent (on commit) and the provider reports its status to StatusCallback
    delivery = make_delivery(channel="sms", recipient=number)
    # then the signed callbacks (sent, then delivered/undelivered) reach the final state
    wait_for(lambda: status_of(delivery) == final, timeout=20, what=f"sms {final}")
    delivery = Delivery.objects.get(pk=delivery.pk)
    assert delivery.finished_at is not None
    if final == "failed":
        assert delivery.last_error == "error code 30003"
    # and our endpoint answered both callbacks 200 (so the provider stops retrying)
    wait_for(lambda: [r["status"] for r in sms_server.app[push_sim.CALLBACKS].records]
             == [200, 200], timeout=10, what="both callbacks answered")


@pytest.mark.django_db(transaction=True)
def test_push_receipt_marks_the_delivery_delivered(public_url, push_server):
    push_server.app[push_sim.CONFIG]["receipt_url"] = public_url + reverse(
        "notification-receipt-push")
    delivery = make_delivery(channel="push", recipient="device-token-9")
    wait_for(lambda: status_of(delivery) == "delivered", timeout=20, what="push delivered")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("address,final", [("ana@example.com", "delivered"),
                                           ("ana@bounce.test", "bounced")])
def test_email_events_mark_delivered_or_bounced(public_url, smtp_server, address, final):
    smtp_server.config["receipt_url"] = public_url + reverse("notification-receipt-email")
    delivery = make_delivery(channel="email", recipient=address)
    wait_for(lambda: status_of(delivery) == final, timeout=20, what=f"email {final}")


@pytest.mark.django_db
def test_receipts_with_a_bad_signature_change_nothing(api, settings):
    # given a sent push delivery
    delivery = make_delivery(channel="push", recipient="t")
    Delivery.objects.filter(pk=delivery.pk).update(status="sent", provider_message_id="m-1")
    url = reverse("notification-receipt-push")
    body = json.dumps({"message_id": "m-1", "status": "delivered"}).encode()
    # when receipts arrive unsigned, signed with another secret, or signed long ago
    for header in (None, sign(secret="not-ours", body=body),
                   sign(secret=settings.PUSH_RECEIPT_SECRET, body=body,
                        timestamp=int(time.time()) - 3600)):
        extra = {f"HTTP_{HEADER.upper().replace('-', '_')}": header} if header else {}
        response = api.post(url, body, content_type="application/json", **extra)
        # then each is refused and the delivery is still only sent
        assert (response.status_code, response.json()["error"]["code"]) == (
            400, "invalid_signature")
    assert status_of(delivery) == "sent"
    # and a correctly signed receipt for an unknown message is a 404 (the provider retries)
    body = json.dumps({"message_id": "unknown", "status": "delivered"}).encode()
    response = api.post(url, body, content_type="application/json", **{
        f"HTTP_{HEADER.upper().replace('-', '_')}": sign(secret=settings.PUSH_RECEIPT_SECRET,
                                                          body=body)})
    assert response.status_code == 404


@pytest.mark.django_db
def test_a_tampered_twilio_callback_is_refused(api, settings):
    delivery = make_delivery(channel="sms", recipient=PHONE)
    Delivery.objects.filter(pk=delivery.pk).update(status="sent", provider_message_id="SM1")
    url = reverse("notification-receipt-sms")
    params = {"MessageSid": "SM1", "MessageStatus": "delivered"}
    good = twilio_signature(auth_token=settings.SMS_AUTH_TOKEN,
                            url=settings.PUBLIC_BASE_URL + url, params=params)

    def post(data):  # as Twilio posts: form-encoded
        return api.post(url, urlencode(data), content_type="application/x-www-form-urlencoded",
                        HTTP_X_TWILIO_SIGNATURE=good)

    tampered = post({**params, "MessageStatus": "failed"})
    assert tampered.status_code == 400 and status_of(delivery) == "sent"
    applied = post(params)
    assert (applied.status_code, applied.json()) == (200, {"result": "applied"})
    assert status_of(delivery) == "delivered"
    # a repeat of the same receipt changes nothing
    assert post(params).json() == {"result": "ignored"}
