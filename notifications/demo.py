"""Demo data for `manage.py seed_demo`: the demo webhook subscriber (python -m simulators
webhook_receiver, port 8106) registered for order events, and two customers' preferences
(alice also gets shipping news by SMS; bob reads Spanish). Idempotent."""

import os

from commerce.accounts.models import User
from commerce.core.demo import CUSTOMERS
from notifications import preferences
from notifications.webhook_models import WebhookEndpoint
from notifications.webhooks import webhook_endpoint_create
from orders import events as order_events

DEMO_ENDPOINT_NAME = "Demo subscriber"
# Where `python -m simulators` runs the demo receiver (its port variable, as the runner reads it).
DEMO_ENDPOINT_URL = (f"http://127.0.0.1:{os.environ.get('SIM_WEBHOOK_RECEIVER_PORT', 8106)}"
                     "/webhooks")
# The demo receiver's default secret (SIM_WEBHOOK_SECRET in simulators/webhook_receiver.py).
DEMO_WEBHOOK_SECRET = "whsec_demo_local_receiver_secret"


def seed(stdout) -> None:
    if not WebhookEndpoint.objects.filter(name=DEMO_ENDPOINT_NAME).exists():
        webhook_endpoint_create(name=DEMO_ENDPOINT_NAME, url=DEMO_ENDPOINT_URL,
                                event_types=sorted(order_events.ALL),
                                secret=DEMO_WEBHOOK_SECRET)
    alice = User.objects.filter(email=CUSTOMERS[0]).first()
    if alice is not None:
        preferences.preference_update(user=alice, phone_number="+15555550100",
                                      channels={"order_shipped": ["email", "sms"]})
    bob = User.objects.filter(email=CUSTOMERS[1]).first()
    if bob is not None:
        preferences.preference_update(user=bob, language="es")
    stdout.write(f"  webhooks: {DEMO_ENDPOINT_NAME} → {DEMO_ENDPOINT_URL}; preferences: "
                 "alice SMS for shipping, bob in Spanish")
