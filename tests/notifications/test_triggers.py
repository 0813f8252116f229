"""Which events send what: every customer and staff message, from real events where they
exist (and from the agreed envelopes of events other work adds: ReturnApproved, SagaFailed,
SagaAwaitingApproval)."""

import uuid
from decimal import Decimal

import pytest
from django.utils import timezone

from inventory.services import stock_adjust
from notifications.rendering import render
from notifications.triggers import plan
from orders import services as order_services
from orders.selectors import order_events
from simulators import slack as slack_sim
from tests.factories import make_item
from tests.notifications.conftest import deliveries, drain, publish
from tests.sagas.helpers import place

pytestmark = pytest.mark.django_db


def handled(consumer, capture) -> list[tuple[str, str]]:
    publish()
    with capture(execute=True):
        drain(consumer)
    return [(d.kind, d.channel) for d in deliveries()]


def envelope_after(order_id, event_type: str, data: dict) -> dict:
    """The envelope of an order event recorded right after the order's current last one."""
    last = order_events(order_id=order_id)[-1]
    return {"event_id": str(uuid.uuid4()), "event_type": event_type, "aggregate_type": "Order",
            "aggregate_id": str(order_id), "version": last.version + 1, "data": data,
            "created_at": timezone.now().isoformat()}


def test_a_declined_payment_tells_the_customer(customer, consumer,
                                               django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        place(customer, make_item(), method="pm_card_chargeDeclined")
    assert handled(consumer, django_capture_on_commit_callbacks) == [("order_failed", "email")]
    [d] = deliveries()
    assert d.subject.startswith("We could not complete your order")
    assert "Your payment was declined" in d.body and "not been charged" in d.body


def test_a_cancellation_after_payment_sends_one_message_with_the_refund(
        customer, consumer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        order = place(customer, make_item(price="15.00"))  # confirmed
    with django_capture_on_commit_callbacks(execute=True):  # the cancellation saga refunds
        order_services.order_request_cancellation(order_id=order.order_id, reason="too late")
    # RefundIssued is part of the cancellation: no separate refund message
    assert handled(consumer, django_capture_on_commit_callbacks) == [
        ("order_confirmed", "email"), ("order_cancelled", "email")]
    cancelled = deliveries(kind="order_cancelled")[0]
    assert "Reason: too late" in cancelled.body
    assert "We have refunded 30.00 USD" in cancelled.body


def test_a_refund_after_delivery_sends_the_refund_message(
        customer, consumer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        order = place(customer, make_item(price="15.00"))
    order_services.order_ship(order_id=order.order_id, carrier="Acme", tracking_number="A1")
    order_services.order_deliver(order_id=order.order_id)
    order_services.order_record_refund(order_id=order.order_id, payment_id="pay_x",
                                       amount=Decimal("5.00"))
    assert handled(consumer, django_capture_on_commit_callbacks) == [
        ("order_confirmed", "email"), ("order_shipped", "email"), ("order_delivered", "email"),
        ("order_refunded", "email")]
    shipped = deliveries(kind="order_shipped")[0]
    # an unknown carrier: the link is our order page
    assert f"/api/v1/orders/{order.order_id}/" in shipped.body
    refunded = deliveries(kind="order_refunded")[0]
    assert "We have refunded 5.00 USD" in refunded.body
    assert "Refunded so far for this order: 5.00 USD of 30.00 USD." in refunded.body


def test_return_approved_carries_the_label(customer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        order = place(customer, make_item())
    envelope = envelope_after(order.order_id, "ReturnApproved", {
        "return_id": str(uuid.uuid4()), "lines": [{"sku": "TEE", "quantity": 1}],
        "return_label_url": "https://labels.example.com/r/1.pdf"})
    [planned] = plan(envelope)
    assert (planned.kind, planned.channel, planned.recipient) == (
        "return_approved", "email", customer.email)
    assert planned.context["return_label_url"] == "https://labels.example.com/r/1.pdf"


def test_staff_hear_about_low_stock_on_slack(consumer, slack_server,
                                             django_capture_on_commit_callbacks):
    item = make_item(quantity=8, low_stock_threshold=5)
    stock_adjust(sku=item.sku, delta=-2, reason="count")   # 6: above the threshold
    stock_adjust(sku=item.sku, delta=-1, reason="count")   # 5: crosses it
    stock_adjust(sku=item.sku, delta=-1, reason="count")   # 4: already low, no new message
    assert handled(consumer, django_capture_on_commit_callbacks) == [("low_stock", "slack")]
    [message] = slack_server.app[slack_sim.MESSAGES]
    assert f"`{item.sku}`" in message["text"]
    assert "*5* available (threshold 5)" in message["text"]


@pytest.mark.parametrize("event_type,data,expected,link", [
    ("SagaFailed", {"step": "refund_payment", "error": "gateway timeout"},
     "*Saga failed* and needs a person", "/admin/sagas/sagainstance/{saga_id}/"),
    ("SagaAwaitingApproval", {"step": "approve", "reason": "above threshold",
                              "amount": "650.00"}, "*Cancellation awaits approval*",
     "/admin/orders/orderview/{order_id}/"),  # where the approve button is
])
def test_staff_hear_about_failed_sagas_and_approvals(event_type, data, expected, link):
    saga_id, order_id = str(uuid.uuid4()), str(uuid.uuid4())
    envelope = {"event_id": str(uuid.uuid4()), "event_type": event_type,
                "aggregate_type": "Saga", "aggregate_id": saga_id, "version": 3,
                "data": {"saga_id": saga_id, "saga_type": "order_cancellation",
                         "order_id": order_id, **data}}
    [planned] = plan(envelope)
    assert (planned.channel, planned.recipient) == ("slack", "#commerce-ops")
    text = render(kind=planned.kind, channel="slack", language="en",
                  context=planned.context).body
    assert expected in text and order_id in text
    assert link.format(saga_id=saga_id, order_id=order_id) in text


def test_events_without_a_message_send_nothing(customer, consumer,
                                               django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        place(customer, make_item())  # placed only: the saga does not run
    assert handled(consumer, django_capture_on_commit_callbacks) == []
