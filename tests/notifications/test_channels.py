"""SMS, push and Slack adapters against their local simulators over HTTP: success, a
provider 5xx (retried), a 4xx (failed, not retried); email refusals."""

from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client import REGISTRY

from notifications.delivery import deliveries_due, delivery_send
from notifications.models import Delivery
from simulators import push as push_sim
from simulators import slack as slack_sim
from simulators import sms as sms_sim
from simulators.notify_common import clear_faults, set_faults
from tests.notifications.conftest import make_delivery

pytestmark = pytest.mark.django_db
PHONE = "+14155550123"


def calls(service: str, outcome: str) -> float:
    return REGISTRY.get_sample_value("commerce_external_calls_total", {
        "service": service, "operation": f"send_{service}" if service != "slack"
        else "post_message", "outcome": outcome}) or 0.0


def reload(delivery) -> Delivery:
    return Delivery.objects.get(pk=delivery.pk)


def test_sms_is_sent_through_the_twilio_like_api(sms_server):
    # given a queued SMS
    delivery = make_delivery(channel="sms", recipient=PHONE)
    # when it is sent
    assert delivery_send(delivery_id=delivery.pk) == "sent"
    # then the provider got it (form-encoded, our sender number) and we keep its sid
    [message] = sms_server.app[sms_sim.MESSAGES]
    assert (message["to"], message["from"]) == (PHONE, "+15005550006")
    assert "has shipped" in message["body"]
    delivery = reload(delivery)
    assert (delivery.status, delivery.provider_message_id, delivery.attempts) == (
        "sent", message["sid"], 1)


def test_a_provider_5xx_is_retried_and_sends_once(sms_server):
    # given a provider that fails the first request with 503
    set_faults(sms_server.app, status=503, count=1)
    before = calls("sms", "server_error")
    delivery = make_delivery(channel="sms", recipient=PHONE)
    # when it is sent
    outcome = delivery_send(delivery_id=delivery.pk)
    # then the adapter retried (same idempotency key) and the message went out once
    assert outcome == "sent"
    assert calls("sms", "server_error") - before == 1
    assert len(sms_server.app[sms_sim.MESSAGES]) == 1
    assert reload(delivery).status == "sent"


def test_a_provider_down_leaves_the_delivery_queued_for_a_later_retry(push_server, settings):
    # given a push provider answering 503 to everything
    set_faults(push_server.app, status=503)
    delivery = make_delivery(channel="push", recipient="device-token-1")
    # when it is sent
    assert delivery_send(delivery_id=delivery.pk) == "retrying"
    # then it stays queued with a retry time (backoff) and nothing was delivered
    delivery = reload(delivery)
    assert (delivery.status, delivery.attempts) == ("queued", 1)
    assert delivery.next_attempt_at > timezone.now() + timedelta(
        seconds=settings.NOTIFICATIONS_RETRY_BACKOFF_SECONDS - 5)
    assert "503" in delivery.last_error
    assert push_server.app[push_sim.MESSAGES] == []
    # and it is not due before its time: a second task does nothing
    assert delivery_send(delivery_id=delivery.pk) == "skipped"
    assert delivery.pk not in deliveries_due()
    # when the provider is back and the retry time has come
    clear_faults(push_server.app)
    Delivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1),
        created_at=timezone.now() - timedelta(seconds=60))
    assert delivery.pk in deliveries_due()
    assert delivery_send(delivery_id=delivery.pk) == "sent"
    # then it went out once, on the second attempt
    [message] = push_server.app[push_sim.MESSAGES]
    assert message["notification"]["title"] == "Your order has shipped"
    delivery = reload(delivery)
    assert (delivery.status, delivery.attempts, delivery.provider_message_id) == (
        "sent", 2, message["name"])


def test_attempts_run_out_and_the_delivery_fails(slack_server, settings):
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 2
    set_faults(slack_server.app, status=500)
    delivery = make_delivery(channel="slack", recipient="#ops")
    assert delivery_send(delivery_id=delivery.pk) == "retrying"
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    assert delivery_send(delivery_id=delivery.pk) == "failed"
    delivery = reload(delivery)
    assert (delivery.status, delivery.attempts) == ("failed", 2)
    assert delivery.last_error.startswith("gave up")
    assert slack_server.app[slack_sim.MESSAGES] == []


@pytest.mark.parametrize("channel,recipient,server", [
    ("sms", "12345", "sms_server"),                 # 400 code 21211, not a number
    ("push", "unregistered-token", "push_server"),  # 404 UNREGISTERED
])
def test_a_provider_4xx_fails_at_once_and_is_not_retried(channel, recipient, server, request):
    sim = request.getfixturevalue(server)
    before = calls(channel, "refused")
    delivery = make_delivery(channel=channel, recipient=recipient)
    # when it is sent
    assert delivery_send(delivery_id=delivery.pk) == "failed"
    # then one call, refused; the delivery failed with the provider's reason; no retry
    assert calls(channel, "refused") - before == 1
    delivery = reload(delivery)
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    assert ("21211" if channel == "sms" else "NOT_FOUND") in delivery.last_error
    assert delivery.pk not in deliveries_due()
    assert delivery_send(delivery_id=delivery.pk) == "skipped"
    assert sim.app[sms_sim.MESSAGES if channel == "sms" else push_sim.MESSAGES] == []


def test_slack_accepts_and_that_is_the_delivery(slack_server):
    delivery = make_delivery(channel="slack", recipient="#commerce-ops")
    assert delivery_send(delivery_id=delivery.pk) == "delivered"
    [message] = slack_server.app[slack_sim.MESSAGES]
    assert message["path"] == "/services/T0TEST/B0TEST/testsecret"
    assert "*Low stock*" in message["text"] and "TEE-BLK-L" in message["text"]
    delivery = reload(delivery)
    assert (delivery.status, delivery.finished_at is not None) == ("delivered", True)


def test_a_slack_webhook_that_is_gone_fails_without_retry(slack_server, settings):
    settings.SLACK_WEBHOOK_URL = f"{slack_server.url}/services/T0/B0/archived"
    delivery = make_delivery(channel="slack", recipient="#old")
    assert delivery_send(delivery_id=delivery.pk) == "failed"
    assert "channel_is_archived" in reload(delivery).last_error


def test_email_refused_by_the_server_fails_and_a_deferral_retries(smtp_server):
    refused = make_delivery(channel="email", recipient="nobody@reject.test")
    assert delivery_send(delivery_id=refused.pk) == "failed"
    assert "550" in reload(refused).last_error
    smtp_server.faults.update(code=451, count=1)
    deferred = make_delivery(channel="email", recipient="ana@example.com")
    assert delivery_send(delivery_id=deferred.pk) == "retrying"
    assert smtp_server.mailbox.messages == []
    Delivery.objects.filter(pk=deferred.pk).update(next_attempt_at=timezone.now())
    assert delivery_send(delivery_id=deferred.pk) == "sent"
    [mail] = smtp_server.mailbox.messages
    assert mail["message_id"] == reload(deferred).provider_message_id
    assert mail["subject"].startswith("Your order") and mail["rcpt_tos"] == ["ana@example.com"]
