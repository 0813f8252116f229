import io

import pytest

from commerce.accounts.models import User
from commerce.core import demo as accounts_demo
from notifications import demo
from notifications.models import NotificationPreference, WebhookEndpoint
from simulators import webhook_receiver

pytestmark = pytest.mark.django_db


def test_demo_seed_registers_the_demo_subscriber_and_preferences_idempotently():
    accounts_demo.seed(io.StringIO())
    demo.seed(io.StringIO())
    demo.seed(io.StringIO())
    [endpoint] = WebhookEndpoint.objects.all()
    assert endpoint.url == "http://127.0.0.1:8106/webhooks"
    assert endpoint.secret == webhook_receiver.DEMO_SECRET  # the receiver verifies with it
    assert "OrderConfirmed" in endpoint.event_types
    bob = NotificationPreference.objects.get(user=User.objects.get(email="bob@example.com"))
    alice = NotificationPreference.objects.get(user=User.objects.get(email="alice@example.com"))
    assert (bob.language, alice.channels) == ("es", {"order_shipped": ["email", "sms"]})
