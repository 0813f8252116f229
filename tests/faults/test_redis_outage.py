"""Redis (broker, cache, event stream) goes away under load, as in production: orders keep
being accepted, nothing is lost, nothing is charged twice, and the worker carries on by
itself once Redis is back. Real processes: gunicorn, a prefork Celery worker and beat."""

import time
from decimal import Decimal

import httpx
import pytest
from django.conf import settings
from django.core.management import call_command
from rest_framework_simplejwt.tokens import RefreshToken

from commerce.eventstore.models import Event, OutboxMessage
from orders.models import OrderView
from payments.models import OperationStatus, PaymentOperation
from payments.selectors import payment_totals_for_order
from tests.factories import make_item
from tests.faults.stack import order_stream, place
from tests.integration.worker import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

FINAL = {"confirmed", "failed", "cancelled"}


def event_ids() -> set[str]:
    return {str(i) for i in Event.objects.values_list("id", flat=True)}


def assert_settled_and_balanced(stream, *, setup_events: set) -> None:
    """Every order final, money balanced per order, stock and read models exact, every
    event the stack appended published to the stream (the test's own setup events were
    relayed by the test process, to its own Redis)."""
    orders = list(OrderView.objects.all())
    assert {o.status for o in orders} <= FINAL, {o.status for o in orders}
    for order in orders:
        totals = payment_totals_for_order(order_id=order.order_id)
        net = totals["captured"] - totals["refunded"]
        assert net == (order.total_amount if order.status == "confirmed" else Decimal("0"))
    assert not PaymentOperation.objects.filter(status=OperationStatus.PENDING).exists()
    call_command("inventory_verify")  # raises CommandError on any drift
    call_command("replay_events", "--verify")  # raises SystemExit(1) on any difference
    wait_for(lambda: not OutboxMessage.objects.filter(published_at__isnull=True).exists(),
             timeout=60, what="the outbox to drain")
    published = {fields[b"event_id"].decode() for _, fields in
                 stream.xrange(settings.EVENTS_STREAM_KEY)}
    appended = event_ids() - setup_events
    assert appended and published == appended


@pytest.mark.parametrize("outage", ["kill", "shutdown"])
def test_a_redis_outage_under_load_loses_nothing_and_the_worker_carries_on(
        outage, stack_on_private_redis, private_redis, customer):
    stack = stack_on_private_redis
    items = [make_item(price="10.00", quantity=1000) for _ in range(3)]
    token = str(RefreshToken.for_user(customer).access_token)
    setup_events = event_ids()
    # given orders streaming in from two clients
    with order_stream(stack.base_url, token, [item.sku for item in items]) as answers:
        time.sleep(3)
        # when Redis goes away for 5 s under that load, then comes back
        private_redis.kill() if outage == "kill" else private_redis.shutdown()
        time.sleep(5)
        private_redis.start()
        time.sleep(3)
    # then every request was answered 201: placing needs PostgreSQL only
    statuses = [status for status, _ in answers]
    assert statuses and set(statuses) == {201}, {s: statuses.count(s) for s in set(statuses)}
    assert OrderView.objects.count() == len(answers)
    # and the worker rode out the outage by itself and settled every order
    wait_for(lambda: set(OrderView.objects.values_list("status", flat=True)) <= FINAL,
             timeout=180, interval=1, what="every order to reach a final state")
    assert stack.alive("worker"), stack.log("worker")[-3000:]
    assert_settled_and_balanced(private_redis.client(), setup_events=setup_events)


def test_an_order_placed_while_the_broker_is_down_is_confirmed_once_it_is_back(
        stack_on_private_redis, private_redis, customer, payment_processor):
    stack = stack_on_private_redis
    item = make_item(price="12.00", quantity=10)
    token = str(RefreshToken.for_user(customer).access_token)
    setup_events = event_ids()
    # given the broker is unreachable
    private_redis.shutdown()
    # when a customer places an order
    with httpx.Client(base_url=stack.base_url, timeout=30,
                      headers={"Authorization": f"Bearer {token}"}) as client:
        assert place(client, item.sku, "pm_card_visa")[0] == 201
    # then it is saved and waits, its wake-up lost, nothing charged
    [order] = OrderView.objects.all()
    time.sleep(3)
    assert OrderView.objects.get().status == "placed"
    assert payment_processor.payment_intents() == []
    # when the broker is back, beat's sweep runs the saga: confirmed exactly once
    private_redis.start()
    wait_for(lambda: OrderView.objects.get().status == "confirmed", timeout=60, interval=0.5,
             what="the order to be confirmed")
    assert PaymentOperation.objects.filter(kind="authorize").count() == 1
    assert PaymentOperation.objects.filter(kind="capture").count() == 1
    assert [i["amount_received"] for i in payment_processor.payment_intents()] == [1200]
    assert_settled_and_balanced(private_redis.client(), setup_events=setup_events)
