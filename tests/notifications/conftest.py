"""Notification tests talk to the real simulators (SMTP over SMTP, the provider APIs over
HTTP) on free ports, and consume the real test Redis stream."""

import uuid

import pytest
from django.conf import settings as django_settings

from commerce.eventstore.outbox import relay_all
from notifications.channels import push, slack, sms
from notifications.consumer import build_consumer, redis_for_consumer
from notifications.delivery import deliveries_create
from notifications.models import Delivery
from notifications.samples import sample_context
from notifications.triggers import Planned
from simulators import push as push_sim
from simulators import slack as slack_sim
from simulators import sms as sms_sim
from simulators import smtp as smtp_sim
from simulators.server import serve_in_thread

GROUP = "notifications-test"


@pytest.fixture
def smtp_server(settings):
    """The SMTP simulator, with Django's real SMTP backend pointed at it."""
    with smtp_sim.serve_in_thread(receipt_url="") as server:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
        yield server


@pytest.fixture
def sms_server(settings):
    with serve_in_thread(sms_sim.create_app) as server:
        settings.SMS_API_URL = server.url
        settings.SMS_ACCOUNT_SID = server.app[sms_sim.CONFIG]["account_sid"]
        settings.SMS_AUTH_TOKEN = server.app[sms_sim.CONFIG]["auth_token"]
        yield server
    sms._api.cache_clear()


@pytest.fixture
def push_server(settings):
    with serve_in_thread(push_sim.create_app) as server:
        server.app[push_sim.CONFIG]["receipt_url"] = ""
        settings.PUSH_API_URL = server.url
        settings.PUSH_API_TOKEN = server.app[push_sim.CONFIG]["api_token"]
        yield server
    push._api.cache_clear()


@pytest.fixture
def slack_server(settings):
    with serve_in_thread(slack_sim.create_app) as server:
        settings.SLACK_WEBHOOK_URL = f"{server.url}/services/T0TEST/B0TEST/testsecret"
        yield server
    slack._api.cache_clear()


@pytest.fixture
def consumer():
    """A consumer of the test stream (its group created at the stream's start), polling
    briefly; `consumer.poll()` runs one round."""
    c = build_consumer(group=GROUP, consumer="test-consumer",
                       client=redis_for_consumer(url=django_settings.REDIS_URL),
                       block_ms=50, start_id="0")
    c.ensure_group()
    return c


def publish() -> int:
    """The outbox relay's job: put committed events on the stream."""
    return relay_all()


def drain(consumer) -> int:
    """Poll until the stream has nothing more for the consumer; returns entries acked."""
    total = 0
    while acked := consumer.poll():
        total += acked
    return total


def deliveries(**filters) -> list[Delivery]:
    return list(Delivery.objects.filter(**filters).order_by("created_at", "channel"))



def make_delivery(*, channel: str, recipient: str, kind: str | None = None) -> Delivery:
    """A stored, queued delivery as the consumer creates it, rendered from the real
    templates with the kind's sample event (sent on commit when the test commits)."""
    kind = kind or ("low_stock" if channel == "slack" else "order_shipped")
    planned = Planned(kind=kind, channel=channel, recipient=recipient,
                      context=sample_context(kind))
    [created] = deliveries_create(
        envelope={"event_id": str(uuid.uuid4()), "event_type": "Sample"}, planned=[planned])
    return created
