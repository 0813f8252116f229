"""The operator gauges computed by beat (ops.gauges.collect), against the real database and
Redis."""

import time
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from prometheus_client import REGISTRY

from commerce.celery import app as celery_app
from commerce.eventstore import policies
from ops import gauges
from orders import services as order_services
from orders.models import OrderView
from sagas.models import SagaInstance, SagaStatus
from tests.factories import make_item

ADDRESS = {"name": "Ada", "line1": "1 Road", "city": "London", "postal_code": "N1",
           "country": "GB"}


def sample(name, **labels):
    return REGISTRY.get_sample_value(name, labels)


@pytest.fixture
def no_policies(monkeypatch):
    monkeypatch.setattr(policies, "_policies", {})


def place(customer, item):
    return order_services.order_place(customer_id=customer.id,
                                      lines=[{"sku": item.sku, "quantity": 1}],
                                      shipping_address=ADDRESS)


@pytest.mark.django_db
def test_oldest_open_order_and_counts(customer, no_policies):
    # given an order placed ten minutes ago that no saga moved on
    order = place(customer, make_item())
    OrderView.objects.filter(pk=order.order_id).update(
        created_at=timezone.now() - timedelta(minutes=10))
    # when the gauges are computed
    results = gauges.collect(verify_inventory=False)
    # then the oldest non-final order is ten minutes old and counted as placed
    assert results["postgres"] is True
    assert 599 <= sample("commerce_order_oldest_open_age_seconds") <= 700
    assert sample("commerce_orders_open", status="placed") == 1
    assert sample("commerce_dependency_up", dependency="postgres") == 1


@pytest.mark.django_db
def test_no_open_order_reads_zero(no_policies):
    gauges.collect(verify_inventory=False)
    assert sample("commerce_order_oldest_open_age_seconds") == 0
    assert sample("commerce_orders_open", status="placed") == 0


@pytest.mark.django_db
def test_failed_sagas_is_a_gauge_that_returns_to_zero():
    # given a saga a person must repair
    saga = SagaInstance.objects.create(saga_type="order_fulfilment",
                                       correlation_id=uuid.uuid4(), status=SagaStatus.FAILED)
    gauges.collect(verify_inventory=False)
    assert sample("commerce_sagas", saga_type="order_fulfilment", status="failed") == 1
    # when it is repaired
    SagaInstance.objects.filter(pk=saga.pk).update(status=SagaStatus.COMPENSATED)
    gauges.collect(verify_inventory=False)
    # then the gauge says so (an hourly increase would have kept firing)
    assert sample("commerce_sagas", saga_type="order_fulfilment", status="failed") == 0


@pytest.mark.django_db
def test_outbox_lag(customer, no_policies):
    # given an event whose outbox row was not published for two minutes
    place(customer, make_item())
    from commerce.eventstore.models import OutboxMessage

    OutboxMessage.objects.update(created_at=timezone.now() - timedelta(minutes=2))
    gauges.collect(verify_inventory=False)
    assert sample("commerce_outbox_pending") >= 1
    assert sample("commerce_outbox_oldest_pending_age_seconds") >= 119


@pytest.mark.django_db
def test_inventory_drift(no_policies):
    # given a stock counter changed behind the services' back
    item = make_item(quantity=10)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE inventory_items SET total = total + 3 WHERE sku = %s", [item.sku])
    # when the scheduled verification runs
    gauges.collect(verify_inventory=True)
    # then the drift gauge counts that item
    assert sample("commerce_inventory_drift_items") == 1
    assert sample("commerce_inventory_verified_timestamp_seconds") > time.time() - 60


@pytest.mark.django_db
def test_queue_depth_and_age():
    # given two messages waiting in the broker's queue (no worker consumes them)
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    celery_app.control.purge()
    try:
        celery_app.send_task("ops.test_nothing")
        celery_app.send_task("ops.test_nothing")
        time.sleep(1.1)
        # when the gauges are computed
        gauges.collect(verify_inventory=False)
        # then the queue shows both, the oldest at least a second old
        assert sample("commerce_queue_depth", queue="celery") == 2
        assert sample("commerce_queue_oldest_age_seconds", queue="celery") >= 1
    finally:
        celery_app.control.purge()
        celery_app.conf.task_always_eager = eager
    gauges.collect(verify_inventory=False)
    assert sample("commerce_queue_depth", queue="celery") == 0
    assert sample("commerce_queue_oldest_age_seconds", queue="celery") == 0


@pytest.mark.django_db
def test_connection_saturation_inputs():
    gauges.collect(verify_inventory=False)
    assert sample("commerce_db_max_connections") > 0
    assert sample("commerce_db_connections", state="active") >= 1


@pytest.mark.django_db
def test_a_failing_check_does_not_stop_the_others(monkeypatch):
    # given Redis answering nothing
    def broken():
        raise ConnectionError("redis down")

    monkeypatch.setattr(gauges, "_redis", broken)
    before = sample("commerce_ops_collect_errors_total", check="redis") or 0
    results = gauges.collect(verify_inventory=False)
    # then the error is counted, Redis reads down, and PostgreSQL's gauges still ran
    assert results == {"postgres": True, "redis": False, "queues": True}
    assert sample("commerce_ops_collect_errors_total", check="redis") == before + 1
    assert sample("commerce_dependency_up", dependency="redis") == 0
