"""Money and outcomes counted from order facts, after commit."""

import uuid

import pytest
from prometheus_client import REGISTRY

from orders import events as ev
from orders import metrics as order_metrics


def value(name, **labels):
    return REGISTRY.get_sample_value(name, labels) or 0.0


class FakeEvent:
    def __init__(self, event_type, data):
        self.event_type, self.data = event_type, data
        self.aggregate_id = uuid.uuid4()


@pytest.mark.django_db(transaction=True)
def test_captured_refunded_and_failed_are_counted_after_commit():
    from django.db import transaction

    captured, refunded = value("commerce_payments_captured_amount_total"), \
        value("commerce_refunds_amount_total")
    other = value("commerce_orders_failed_total", code="gateway_error")
    # when the facts are recorded in a transaction that commits
    with transaction.atomic():
        order_metrics.count_captured(FakeEvent(ev.PAYMENT_CAPTURED, {"amount": "25.50"}))
        order_metrics.count_refunded(FakeEvent(ev.REFUND_ISSUED, {"amount": "5.00"}))
        order_metrics.count_failed(FakeEvent(ev.ORDER_FAILED, {"code": "gateway_error"}))
        # then nothing is counted before the commit
        assert value("commerce_payments_captured_amount_total") == captured
    assert value("commerce_payments_captured_amount_total") == captured + 25.5
    assert value("commerce_refunds_amount_total") == refunded + 5.0
    assert value("commerce_orders_failed_total", code="gateway_error") == other + 1


@pytest.mark.django_db(transaction=True)
def test_rolled_back_fact_counts_nothing():
    from django.db import transaction

    captured = value("commerce_payments_captured_amount_total")
    with pytest.raises(RuntimeError), transaction.atomic():
        order_metrics.count_captured(FakeEvent(ev.PAYMENT_CAPTURED, {"amount": "9.99"}))
        raise RuntimeError("command refused")
    assert value("commerce_payments_captured_amount_total") == captured


@pytest.mark.django_db
def test_a_confirmed_order_observes_its_confirmation_time(customer,
                                                          django_capture_on_commit_callbacks):
    from orders.selectors import order_get
    from tests.factories import make_item
    from tests.sagas.helpers import place

    count = value("commerce_order_confirm_seconds_count")
    captured = value("commerce_payments_captured_amount_total")
    # when an order is placed and its saga runs to the end
    with django_capture_on_commit_callbacks(execute=True):
        order = place(customer, make_item(price="10.00", quantity=5), quantity=2)
    # then it is confirmed, its placement → confirmation time observed once, 20.00 captured
    assert order_get(order_id=order.order_id).status == "confirmed"
    assert value("commerce_order_confirm_seconds_count") == count + 1
    assert value("commerce_payments_captured_amount_total") == captured + 20.0
