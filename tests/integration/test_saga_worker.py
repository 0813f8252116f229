"""Sagas run by real Celery worker processes against Redis and the test database."""

import signal
from decimal import Decimal

import pytest
from django.utils import timezone

from inventory.selectors import reservation_get_for_order
from orders.selectors import order_get
from payments.models import Payment, PaymentOperation
from sagas.models import SagaInstance, SagaStatus, SagaStep
from sagas.tasks import run_due
from tests.conftest import auth_client
from tests.factories import make_item
from tests.integration.worker import start_worker, stop_worker, wait_for
from tests.sagas.helpers import ADDRESS, assert_consistent, fulfilment_saga, place, stock

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def saga_finished(order_id):
    saga = SagaInstance.objects.filter(correlation_id=order_id).first()
    return saga if saga and saga.status not in (SagaStatus.RUNNING,
                                                SagaStatus.COMPENSATING) else None


def test_cart_checkout_to_confirmed_order_with_a_real_worker(
        customer, real_celery, tmp_path):
    # given stock and a customer's cart
    item = make_item(price="12.50", quantity=5)
    api = auth_client(customer)
    assert api.post("/api/v1/cart/items/", {"sku": item.sku, "quantity": 2},
                    format="json").status_code in (200, 201)
    worker = start_worker(tmp_path / "worker.log")
    try:
        # when the customer checks out
        response = api.post("/api/v1/cart/checkout/",
                            {"shipping_address": ADDRESS, "payment_method": "pm_card_visa"},
                            format="json")
        assert response.status_code == 201, response.content
        order_id = response.json()["order_id"]
        # then the worker takes the saga to the end
        saga = wait_for(lambda: saga_finished(order_id), timeout=60, what="saga to finish")
    finally:
        stop_worker(worker)
    assert saga.status == SagaStatus.COMPLETED, (tmp_path / "worker.log").read_text()[-3000:]
    order = order_get(order_id=order_id)
    assert order.status == "confirmed"
    assert reservation_get_for_order(order_id=order_id).status == "confirmed"
    assert stock(item) == (5, 2, 3)
    payment = Payment.objects.get(order_id=order_id)
    assert (payment.status, payment.amount_captured) == ("captured", Decimal("25.00"))
    assert_consistent(order_id)
    # and the payments endpoint shows it to its owner
    listed = api.get(f"/api/v1/orders/{order_id}/payments/").json()
    assert [(p["status"], p["captured_amount"]) for p in listed["results"]] == [
        ("captured", "25.00")]


def test_worker_killed_mid_step_then_new_worker_and_sweeper_finish(
        customer, real_celery, tmp_path, payment_processor):
    # given a worker that waits long for the processor, whose next answer is held back for
    # 30 s after it recorded the charge
    item = make_item(price="10.00", quantity=5)
    log = tmp_path / "worker.log"
    payment_processor.configure(hang_seconds=30)
    payment_processor.inject("hang", count=1)
    first = start_worker(log, name="doomed", PAYMENT_API_TIMEOUT_SECONDS=60,
                         SAGA_STEP_DEADLINE_SECONDS=2)
    second = None
    try:
        order = place(customer, item, quantity=2)
        saga = fulfilment_saga(order.order_id)
        key = f"saga:{saga.id}:authorize"
        # when the worker is SIGKILLed while it waits for the processor's answer
        wait_for(lambda: payment_processor.payment_intents(idempotency_key=key), timeout=60,
                 what="the processor to record the authorization")
        stop_worker(first, sig=signal.SIGKILL)
        assert first.returncode == -signal.SIGKILL
        # then the saga still expects the authorization, whose intent is recorded with
        # its answer unknown (the call was made with no transaction open)
        saga.refresh_from_db()
        assert (saga.status, saga.current_step) == (SagaStatus.RUNNING, 2)
        assert list(Payment.objects.values_list("status", flat=True)) == ["pending"]
        # when a new worker starts and the sweeper runs periodically, as beat does (the
        # dead worker's lease must expire first)
        second = start_worker(log, name="rescuer", SAGA_STEP_DEADLINE_SECONDS=2)
        wait_for(lambda: SagaInstance.objects.get(pk=saga.pk).deadline < timezone.now(),
                 timeout=10, what="the step deadline to pass")

        def sweep_then_check():
            run_due.delay()
            return saga_finished(order.order_id)

        done = wait_for(sweep_then_check, timeout=60, interval=3, what="the saga to finish")
    finally:
        stop_worker(first, sig=signal.SIGKILL)
        if second is not None:
            stop_worker(second)
    # then the saga finished with one reservation and one charge
    assert done.status == SagaStatus.COMPLETED, log.read_text()[-3000:]
    assert order_get(order_id=order.order_id).status == "confirmed"
    assert stock(item) == (5, 2, 3)
    assert Payment.objects.count() == 1
    assert PaymentOperation.objects.filter(kind="authorize").count() == 1
    assert len(payment_processor.payment_intents()) == 1
    step = SagaStep.objects.get(saga=done, step="authorize_payment", action="forward")
    assert step.attempts == 2  # the killed attempt and the resumed one
    assert SagaStep.objects.get(saga=done, step="reserve_inventory").attempts == 1
    assert_consistent(order.order_id)


def test_order_api_then_cancel_api_with_a_real_worker(customer, real_celery, tmp_path):
    # given an order placed over the API and confirmed by the worker
    item = make_item(price="7.00", quantity=5)
    api = auth_client(customer)
    worker = start_worker(tmp_path / "worker.log")
    try:
        placed = api.post("/api/v1/orders/", {
            "lines": [{"sku": item.sku, "quantity": 1}], "shipping_address": ADDRESS,
            "payment_method": "pm_card_visa"}, format="json")
        assert placed.status_code == 201, placed.content
        order_id = placed.json()["order_id"]
        wait_for(lambda: order_get(order_id=order_id).status == "confirmed", timeout=60,
                 what="the order to be confirmed")
        # when the customer cancels it
        cancelled = api.post(f"/api/v1/orders/{order_id}/cancel/", {"reason": "no longer"},
                             format="json")
        assert cancelled.status_code == 202, cancelled.content
        wait_for(lambda: order_get(order_id=order_id).status == "cancelled", timeout=60,
                 what="the order to be cancelled")
        wait_for(lambda: all(s.status in (SagaStatus.COMPLETED,) for s in
                             SagaInstance.objects.filter(correlation_id=order_id)),
                 timeout=30, what="both sagas to complete")
    finally:
        stop_worker(worker)
    # then the payment was refunded and the stock released
    payment = Payment.objects.get(order_id=order_id)
    assert (payment.status, payment.amount_refunded) == ("refunded", Decimal("7.00"))
    assert stock(item) == (5, 0, 5)
    assert_consistent(order_id)
