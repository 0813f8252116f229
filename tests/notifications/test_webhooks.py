"""Webhooks to subscribers: signed deliveries that verify with the documented helper, a
receiver that was down gets everything once back, in order per order; a bad endpoint is
disabled after N failures in a row and resumes when staff re-enable it."""

import json
import time

import pytest

from commerce.accounts import roles
from notifications import signature, webhooks
from notifications.tasks import webhooks_due
from notifications.webhook_models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from orders import services as order_services
from simulators import webhook_receiver
from simulators.notify_common import clear_faults, set_faults
from simulators.server import free_port, serve_in_thread
from tests.conftest import auth_client
from tests.factories import make_item
from tests.notifications.conftest import drain, publish
from tests.sagas.helpers import place

pytestmark = pytest.mark.django_db

ORDER_EVENTS = ["OrderPlaced", "InventoryReserved", "PaymentAuthorized", "PaymentCaptured",
                "OrderConfirmed", "ShipmentCreated", "OrderShipped"]


@pytest.fixture
def receiver():
    with serve_in_thread(webhook_receiver.create_app) as server:
        yield server


@pytest.fixture
def fast_retries(settings):
    settings.WEBHOOK_RETRY_BACKOFF_SECONDS = 0  # every retry is due at once (no sleeping)


def subscribe(receiver, **kw) -> WebhookEndpoint:
    return webhooks.webhook_endpoint_create(
        name="orders mirror", url=f"{receiver.url}/webhooks", event_types=ORDER_EVENTS,
        secret=receiver.app[webhook_receiver.CONFIG]["secret"], **kw)


def shipped_orders(customer, count, capture) -> list[str]:
    item = make_item(quantity=50)
    ids = []
    for _ in range(count):
        with capture(execute=True):
            order = place(customer, item)  # confirmed by the saga (eager)
        order_services.order_ship(order_id=order.order_id, carrier="UPS", tracking_number="1Z")
        ids.append(str(order.order_id))
    return ids


def test_the_signature_helper_verifies_and_rejects():
    body = b'{"event_id":"e1"}'
    header = signature.sign(secret="whsec_x", body=body)
    assert signature.verify(secret="whsec_x", body=body, header=header) > 0
    for bad_body, bad_header, secret in (
            (b'{"event_id":"e2"}', header, "whsec_x"),        # body changed
            (body, header, "whsec_other"),                    # wrong secret
            (body, signature.sign(secret="whsec_x", body=body,
                                  timestamp=int(time.time()) - 600), "whsec_x"),  # too old
            (body, "v1=abc", "whsec_x"), (body, None, "whsec_x")):  # malformed, missing
        with pytest.raises(signature.InvalidSignature):
            signature.verify(secret=secret, body=bad_body, header=bad_header)
    # a rotated secret: a header carrying two signatures verifies with either secret
    t = int(time.time())
    both = signature.sign(secret="old", body=body, timestamp=t) + "," + \
        signature.sign(secret="new", body=body, timestamp=t).split(",")[1]
    assert signature.verify(secret="new", body=body, header=both) == t


def test_a_receiver_that_was_down_gets_every_delivery_in_order_per_order(
        customer, receiver, consumer, fast_retries, settings,
        django_capture_on_commit_callbacks):
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 1000  # down for a while, not for good
    settings.WEBHOOK_MAX_ATTEMPTS = 1000
    # given a subscriber to order events, and a receiver that is down (503)
    endpoint = subscribe(receiver)
    set_faults(receiver.app, status=503)
    order_ids = shipped_orders(customer, 2, django_capture_on_commit_callbacks)
    # when the events are consumed (each first attempt fails) and retried while it is down
    publish()
    with django_capture_on_commit_callbacks(execute=True):
        drain(consumer)
        for _ in range(3):
            webhooks_due()
    assert WebhookDelivery.objects.filter(status="pending").count() == 14
    assert receiver.app[webhook_receiver.RECEIVED] == []
    # only the oldest pending delivery of each order was tried: the rest wait behind it
    tried = set(WebhookAttempt.objects.values_list("delivery__aggregate_version", flat=True))
    assert tried == {1}
    assert all(a.status_code == 503 and a.latency_ms >= 0
               for a in WebhookAttempt.objects.all())
    # when the receiver is back and the retries come due
    clear_faults(receiver.app)
    with django_capture_on_commit_callbacks(execute=True):
        webhooks_due()
    # then it got all 14, each once, and per order in version order
    received = receiver.app[webhook_receiver.RECEIVED]
    assert len(received) == 14 == len({r["event_id"] for r in received})
    for order_id in order_ids:
        mine = [r for r in received if r["aggregate_id"] == order_id]
        assert [r["event_type"] for r in mine] == ORDER_EVENTS
        assert [r["aggregate_version"] for r in mine] == list(range(1, 8))
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"delivered"}
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).consecutive_failures == 0


def test_each_delivery_is_signed_with_the_endpoint_secret(customer, consumer, settings,
                                                          django_capture_on_commit_callbacks):
    captured = []

    def app():
        from aiohttp import web

        async def capture(request):
            captured.append((await request.read(), dict(request.headers)))
            return web.json_response({})

        application = web.Application()
        application.router.add_post("/hook", capture)
        return application

    with serve_in_thread(app) as server:
        endpoint = webhooks.webhook_endpoint_create(name="x", url=f"{server.url}/hook",
                                                    event_types=["OrderPlaced"])
        with django_capture_on_commit_callbacks(execute=True):
            place(customer, make_item())
        publish()
        with django_capture_on_commit_callbacks(execute=True):
            drain(consumer)
    [(body, headers)] = captured
    # the subscriber's check, with the documented helper, over the raw body
    signature.verify(secret=endpoint.secret, body=body, header=headers["Commerce-Signature"])
    payload = json.loads(body)
    assert payload["event_type"] == "OrderPlaced" == headers["Commerce-Event-Type"]
    assert payload["event_id"] == headers["Commerce-Event-Id"]
    assert (payload["aggregate_type"], payload["aggregate_version"]) == ("Order", 1)
    assert payload["data"]["total"] == "20.00"  # 2 × 10.00
    assert endpoint.secret.startswith("whsec_")


def test_a_bad_endpoint_is_disabled_after_n_failures_and_staff_re_enable_it(
        customer, consumer, settings, fast_retries, staff_api,
        django_capture_on_commit_callbacks):
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 3
    # given an endpoint where nothing listens
    endpoint = webhooks.webhook_endpoint_create(
        name="broken", url=f"http://127.0.0.1:{free_port()}/hook", event_types=["OrderPlaced"])
    with django_capture_on_commit_callbacks(execute=True):
        place(customer, make_item())
    publish()
    # when the delivery keeps failing
    with django_capture_on_commit_callbacks(execute=True):
        drain(consumer)
        for _ in range(5):
            webhooks_due()
    # then after 3 failures in a row the endpoint is disabled and nothing more is tried
    endpoint.refresh_from_db()
    assert (endpoint.is_active, endpoint.consecutive_failures) == (False, 3)
    assert "3 failed attempts in a row" in endpoint.disabled_reason
    attempts = list(WebhookAttempt.objects.order_by("attempt"))
    assert [(a.attempt, a.status_code) for a in attempts] == [(1, None), (2, None), (3, None)]
    assert all("ConnectError" in a.error for a in attempts)
    [delivery] = WebhookDelivery.objects.all()
    assert delivery.status == "pending"  # kept: it goes out once the endpoint works again
    # when staff fix the URL and re-enable it
    with serve_in_thread(webhook_receiver.create_app) as receiver:
        secret = receiver.app[webhook_receiver.CONFIG]["secret"]
        assert staff_api.patch(f"/api/v1/webhooks/endpoints/{endpoint.pk}/", {
            "url": f"{receiver.url}/webhooks", "secret": secret},
            format="json").status_code == 200
        with django_capture_on_commit_callbacks(execute=True):
            response = staff_api.post(f"/api/v1/webhooks/endpoints/{endpoint.pk}/enable/")
        # then the pending delivery goes out
        assert response.status_code == 200 and response.json()["is_active"] is True
        [got] = receiver.app[webhook_receiver.RECEIVED]
    assert got["event_type"] == "OrderPlaced"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 4)


def test_webhook_endpoints_api_is_for_admin_staff(customer_api, make_staff):
    admin_api = auth_client(make_staff(roles.ADMIN))
    support_api = auth_client(make_staff(roles.SUPPORT))
    body = {"name": "erp", "url": "https://erp.example.com/hooks",
            "event_types": ["OrderConfirmed", "OrderShipped"]}
    for client in (customer_api, support_api):
        assert client.post("/api/v1/webhooks/endpoints/", body, format="json"
                           ).status_code == 403
    created = admin_api.post("/api/v1/webhooks/endpoints/", body, format="json")
    assert created.status_code == 201
    data = created.json()
    assert data["secret"].startswith("whsec_") and data["is_active"] is True
    listed = admin_api.get("/api/v1/webhooks/endpoints/").json()
    assert [e["name"] for e in listed["results"]] == ["erp"]
    assert "secret" not in listed["results"][0]
    bad = admin_api.post("/api/v1/webhooks/endpoints/", {**body, "event_types": []},
                         format="json")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "validation_error"
    deliveries = admin_api.get(f"/api/v1/webhooks/endpoints/{data['id']}/deliveries/")
    assert deliveries.status_code == 200 and deliveries.json()["count"] == 0
    assert admin_api.delete(f"/api/v1/webhooks/endpoints/{data['id']}/").status_code == 204
    assert admin_api.get(f"/api/v1/webhooks/endpoints/{data['id']}/").status_code == 404
