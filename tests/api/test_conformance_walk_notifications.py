"""The notification and webhook operations, called with real data by the caller each is
for (a customer's preferences, staff managing webhook endpoints, providers posting signed
delivery receipts), answer a success that matches the schema."""

import json
from urllib.parse import urlencode

import pytest
from django.conf import settings

from commerce.accounts import roles
from notifications.models import Delivery
from notifications.signature import HEADER, sign, twilio_signature
from tests.api.openapi import Walk, in_test_transaction, operations
from tests.api.test_conformance_walk import NOTIFICATION_PATHS
from tests.notifications.conftest import make_delivery

pytestmark = pytest.mark.django_db
ENDPOINT = "/api/v1/webhooks/endpoints/{endpoint_id}/"
RECEIPTS = "/api/v1/notifications/receipts/"


@pytest.fixture
def walk(settings):
    settings.DEBUG_PROPAGATE_EXCEPTIONS = True
    with in_test_transaction():
        yield Walk()


def sent(channel: str, recipient: str, message_id: str) -> Delivery:
    delivery = make_delivery(channel=channel, recipient=recipient)
    Delivery.objects.filter(pk=delivery.pk).update(status="sent",
                                                   provider_message_id=message_id)
    return delivery


def test_every_notification_operation_succeeds_as_documented(walk, customer, make_staff):
    admin = make_staff(roles.ADMIN)
    # a customer's preferences
    walk("get", "/api/v1/me/notification-preferences/", 200, user=customer)
    walk("patch", "/api/v1/me/notification-preferences/", 200, user=customer,
         body={"language": "es"})
    # staff manage a webhook endpoint
    created = walk("post", "/api/v1/webhooks/endpoints/", 201, user=admin, body={
        "name": "erp", "url": "https://erp.example.com/hooks",
        "event_types": ["OrderConfirmed"]}).json()
    endpoint = {"endpoint_id": created["id"]}
    walk("get", "/api/v1/webhooks/endpoints/", 200, user=admin)
    walk("get", ENDPOINT, 200, user=admin, path=endpoint)
    walk("patch", ENDPOINT, 200, user=admin, path=endpoint, body={"name": "erp-2"})
    walk("get", f"{ENDPOINT}deliveries/", 200, user=admin, path=endpoint)
    walk("post", f"{ENDPOINT}enable/", 200, user=admin, path=endpoint)
    walk("delete", ENDPOINT, 204, user=admin, path=endpoint)
    # providers post signed delivery receipts for messages we sent
    sent("sms", "+14155550123", "SM-walk")
    params = {"MessageSid": "SM-walk", "MessageStatus": "delivered"}
    url = settings.PUBLIC_BASE_URL + f"{RECEIPTS}sms/"
    walk("post", f"{RECEIPTS}sms/", 200, body=params, headers={
        "X-Twilio-Signature": twilio_signature(auth_token=settings.SMS_AUTH_TOKEN, url=url,
                                               params=params),
        "Content-Type": "application/x-www-form-urlencoded"})
    for channel, secret, body in (
            ("push", settings.PUSH_RECEIPT_SECRET,
             {"message_id": "push-walk", "status": "delivered"}),
            ("email", settings.EMAIL_RECEIPT_SECRET,
             {"message_id": "email-walk", "event": "delivered"})):
        sent(channel, "device-or-address", body["message_id"])
        raw = json.dumps(body).encode()  # what the walk sends (schemathesis: json.dumps)
        walk("post", f"{RECEIPTS}{channel}/", 200, body=body,
             headers={HEADER: sign(secret=secret, body=raw)})
    assert urlencode(params)  # form bodies are signed by parameters, not bytes
    # then every notification operation of the schema was seen succeeding
    mine = {(op.method.upper(), op.path) for op in operations()
            if op.path.startswith(NOTIFICATION_PATHS)}
    assert mine - walk.succeeded == set()
    assert set(Delivery.objects.values_list("status", flat=True)) == {"delivered"}
