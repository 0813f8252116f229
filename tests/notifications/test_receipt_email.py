"""A checkout through to confirmation sends exactly one receipt email, in the customer's
language, with the order's totals; redelivering the stream entry sends nothing more."""

from decimal import Decimal

import pytest

from cart import services as cart_services
from cart.refs import cart_ref_for_user
from commerce.core.redis import redis_client
from notifications.preferences import preference_update
from orders.models import OrderView
from tests.factories import make_item
from tests.notifications.conftest import deliveries, publish

pytestmark = pytest.mark.django_db

CHECKOUT = "/api/v1/cart/checkout/"
ADDRESS = {"name": "Ana García", "line1": "Calle Mayor 1", "city": "Madrid",
           "postal_code": "28013", "country": "ES"}


def test_checkout_to_confirmation_sends_one_receipt_in_the_customers_language(
        customer, customer_api, smtp_server, consumer, django_capture_on_commit_callbacks,
        settings):
    # given a customer who reads Spanish, with 2 × 12.50 and 1 × 3.25 in the cart
    preference_update(user=customer, language="es")
    a, b = make_item(price="12.50").sku, make_item(price="3.25").sku
    cart = cart_ref_for_user(customer)
    cart_services.cart_item_add(cart=cart, sku=a, quantity=2)
    cart_services.cart_item_add(cart=cart, sku=b, quantity=1)
    # when they check out and the fulfilment saga confirms the order (eager tasks)
    with django_capture_on_commit_callbacks(execute=True):
        response = customer_api.post(CHECKOUT, {"shipping_address": ADDRESS,
                                                "payment_method": "pm_card_visa"},
                                     format="json")
    assert response.status_code == 201, response.data
    order = OrderView.objects.get(pk=response.data["order_id"])
    assert (order.status, order.total_amount) == ("confirmed", Decimal("28.25"))
    # and the outbox relay publishes the events and the consumer handles them
    publish()
    with django_capture_on_commit_callbacks(execute=True):
        handled = consumer.poll()
    # then exactly one email reached the SMTP server: the receipt, in Spanish, with totals
    assert handled >= 5  # OrderPlaced … OrderConfirmed, all acknowledged
    [mail] = smtp_server.mailbox.messages
    assert mail["rcpt_tos"] == [customer.email]
    ref = str(order.order_id)[:8].upper()
    assert mail["subject"] == f"Tu pedido {ref} está confirmado"
    assert "2 × Product" in mail["text"] and "25,00 USD" in mail["text"]
    assert "Total: 28,25 USD" in mail["text"]
    assert "28,25 USD" in mail["html"]
    [delivery] = deliveries()
    assert (delivery.kind, delivery.channel, delivery.status, delivery.language) == (
        "order_confirmed", "email", "sent", "es")
    assert delivery.provider_message_id == mail["message_id"]
    assert consumer.client.xpending(settings.EVENTS_STREAM_KEY, consumer.group)["pending"] == 0

    # when the same events reach the stream again (the relay republishes after a crash)
    entries = redis_client().xrange(settings.EVENTS_STREAM_KEY)
    for _entry_id, fields in entries:
        redis_client().xadd(settings.EVENTS_STREAM_KEY, fields)
    with django_capture_on_commit_callbacks(execute=True):
        again = consumer.poll()
    # then every entry is acknowledged as a duplicate and nothing more is sent
    assert again == len(entries)
    assert len(smtp_server.mailbox.messages) == 1
    assert len(deliveries()) == 1
