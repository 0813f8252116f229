"""The order fulfilment saga, eager Celery (on-commit callbacks executed in the test)."""

from decimal import Decimal

import pytest
from django.utils import timezone

from commerce.core import external
from commerce.core.errors import Conflict
from commerce.eventstore.models import Event
from inventory.selectors import reservation_get_for_order
from inventory.services import stock_adjust
from orders import services as order_services
from orders.selectors import order_get
from payments.gateways import get_gateway
from payments.models import Payment, PaymentOperation
from sagas import engine, runner
from sagas.batch import BatchRun
from sagas.errors import TransientError
from sagas.models import SagaInstance, SagaStatus, SagaStep
from tests.factories import make_item
from tests.sagas.helpers import assert_consistent, fulfilment_saga, place, stock

pytestmark = pytest.mark.django_db


@pytest.fixture
def item(db):
    return make_item(price="10.00", quantity=10)


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Place an order and let its saga run to the end (eager tasks, on-commit executed)."""
    def go(customer, item, **kw):
        with django_capture_on_commit_callbacks(execute=True):
            order = place(customer, item, **kw)
        return order_get(order_id=order.order_id)
    return go


def event_types(order_id):
    return list(Event.objects.filter(aggregate_id=order_id).order_by("version")
                .values_list("event_type", flat=True))


def test_happy_path_confirms_the_order(customer, item, run):
    # when
    order = run(customer, item, quantity=2)
    # then the order is confirmed, stock confirmed (still counted reserved until shipped),
    # the payment captured for the total
    assert order.status == "confirmed"
    assert event_types(order.order_id) == [
        "OrderPlaced", "InventoryReserved", "PaymentAuthorized", "PaymentCaptured",
        "OrderConfirmed"]
    assert reservation_get_for_order(order_id=order.order_id).status == "confirmed"
    assert stock(item) == (10, 2, 8)
    payment = Payment.objects.get(order_id=order.order_id)
    assert (payment.status, payment.amount_captured) == ("captured", Decimal("20.00"))
    assert order.captured_amount == Decimal("20.00")
    saga = fulfilment_saga(order.order_id)
    assert saga.status == SagaStatus.COMPLETED
    assert list(SagaStep.objects.filter(saga=saga).values_list("step", "status")) == [
        ("start", "succeeded"), ("reserve_inventory", "succeeded"),
        ("authorize_payment", "succeeded"), ("confirm_reservation", "succeeded"),
        ("capture_payment", "succeeded"), ("confirm_order", "succeeded")]
    assert_consistent(order.order_id)


def test_declined_card_fails_the_order_and_releases_stock(customer, item, run):
    # when
    order = run(customer, item, quantity=3, method="pm_card_chargeDeclined")
    # then
    assert order.status == "failed"
    assert order.failure_code == "payment_declined"
    assert event_types(order.order_id) == [
        "OrderPlaced", "InventoryReserved", "PaymentFailed", "OrderFailed"]
    assert reservation_get_for_order(order_id=order.order_id).status == "released"
    assert stock(item) == (10, 0, 10)  # available back to where it was
    # the declined attempt is on record; nothing was authorized, captured or refunded
    assert [(p.status, p.amount_authorized, p.amount_captured, p.failure_code)
            for p in Payment.objects.all()] == [("declined", 0, 0, "generic_decline")]
    saga = fulfilment_saga(order.order_id)
    assert saga.status == SagaStatus.COMPENSATED
    assert saga.saga_data["failure"]["code"] == "payment_declined"
    assert_consistent(order.order_id)


def test_out_of_stock_fails_the_order_without_calling_the_gateway(
        customer, item, payment_processor, django_capture_on_commit_callbacks):
    # given an order placed while stock was there (placement's check passes)...
    with django_capture_on_commit_callbacks(execute=True):
        placed = place(customer, item, quantity=5)
        # ...and stock that went before the saga reserves (the check is a courtesy only)
        stock_adjust(sku=item.sku, delta=-8, reason="damaged in the warehouse")
    # then the saga's reservation refuses it and the order fails
    order = order_get(order_id=placed.order_id)
    assert order.status == "failed"
    assert order.failure_code == "insufficient_stock"
    assert event_types(order.order_id) == [
        "OrderPlaced", "InventoryReservationFailed", "OrderFailed"]
    assert reservation_get_for_order(order_id=order.order_id) is None
    assert stock(item) == (2, 0, 2)
    assert not Payment.objects.exists()
    assert payment_processor.stats().get("requests", 0) == 0  # the gateway was never called
    assert_consistent(order.order_id)


def test_payment_timeouts_are_retried_then_confirmed(customer, item, run, settings,
                                                    payment_processor):
    # given the processor holds back its answer (after charging) longer than we wait, for as
    # many requests as two whole gateway calls make with their retries
    settings.PAYMENT_API_TIMEOUT_SECONDS = 0.5
    payment_processor.configure(timeouts_per_key=2 * get_gateway().retry.attempts)
    # when
    order = run(customer, item, method="pm_card_timeout")
    # then exactly one authorization, after three attempts
    assert order.status == "confirmed"
    assert PaymentOperation.objects.filter(kind="authorize").count() == 1
    assert len(payment_processor.payment_intents()) == 1
    saga = fulfilment_saga(order.order_id)
    step = SagaStep.objects.get(saga=saga, step="authorize_payment", action="forward")
    assert (step.status, step.attempts) == ("succeeded", 3)
    assert_consistent(order.order_id)


def test_failure_after_capture_refunds_and_releases(customer, item, run, monkeypatch):
    # given confirming the order is refused after the payment was captured (by the batch
    # step, which then falls back to one order at a time, and by the single step)
    def refuse(**_):
        raise Conflict("confirmation refused")

    def refusing_decision(action, event_type):
        def decide(order):
            raise Conflict("confirmation refused")
        return decide
    monkeypatch.setattr(order_services, "order_confirm", refuse)
    monkeypatch.setattr(order_services, "record_once", refusing_decision)
    # when
    order = run(customer, item, quantity=2)
    # then the capture is refunded, the stock released, the order failed
    assert order.status == "failed"
    payment = Payment.objects.get(order_id=order.order_id)
    assert (payment.status, payment.amount_captured, payment.amount_refunded) == (
        "refunded", Decimal("20.00"), Decimal("20.00"))
    assert order.refunded_amount == Decimal("20.00")
    assert "RefundIssued" in event_types(order.order_id)
    assert reservation_get_for_order(order_id=order.order_id).status == "released"
    assert stock(item) == (10, 0, 10)
    assert fulfilment_saga(order.order_id).status == SagaStatus.COMPENSATED
    assert_consistent(order.order_id)


def test_compensation_failing_every_time_then_staff_retry(
        customer, item, run, monkeypatch, settings, django_capture_on_commit_callbacks,
        make_staff, client):
    # given releasing stock keeps failing
    settings.SAGA_MAX_ATTEMPTS = 3
    from inventory import services as inventory_services
    real_release = inventory_services.reservation_release

    def broken(**_):
        raise TransientError("inventory unavailable")
    monkeypatch.setattr(inventory_services, "reservation_release", broken)
    # when a declined order is compensated
    order = run(customer, item, method="pm_card_chargeDeclined")
    saga = fulfilment_saga(order.order_id)
    # then the saga is FAILED, listed for staff; the order is not failed yet
    assert saga.status == SagaStatus.FAILED
    assert "inventory unavailable" in saga.last_error
    assert order.status == "reserved"
    staff = make_staff()
    staff.is_superuser = True
    staff.save()
    client.force_login(staff)
    listing = client.get("/admin/sagas/sagainstance/?status__exact=failed")
    assert listing.status_code == 200 and str(saga.id) in listing.content.decode()
    # when the fault is gone and staff retry from the admin
    monkeypatch.setattr(inventory_services, "reservation_release", real_release)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/admin/sagas/sagainstance/", {
            "action": "retry_failed_step", "_selected_action": [str(saga.id)]})
    assert response.status_code == 302
    # then the compensation completes
    saga.refresh_from_db()
    assert saga.status == SagaStatus.COMPENSATED
    assert order_get(order_id=order.order_id).status == "failed"
    assert stock(item) == (10, 0, 10)
    assert_consistent(order.order_id)


def test_a_crash_between_the_charge_and_its_record_charges_once(
        customer, item, django_capture_on_commit_callbacks, payment_processor):
    # given a worker that claimed the saga and ran it up to the authorization call
    with django_capture_on_commit_callbacks(execute=False):
        order = place(customer, item)
    [claimed] = runner.claim_due(limit=10)
    dying = engine.SagaRun(claimed)
    assert dying.advance() is None and dying.batchable()  # start, then reserve_inventory
    assert BatchRun([dying]).advance() is None
    assert BatchRun([dying]).advance() is None            # reserved
    [call] = BatchRun([dying]).advance().values()         # the authorization to make
    assert call.name == "payments.authorize"
    # when the processor charges but the worker dies before recording the answer
    assert external.invoke(call).error is None
    assert Payment.objects.get(order_id=order.order_id).status == "pending"
    # and its lease expires, so the next sweep claims the saga again
    SagaInstance.objects.filter(pk=claimed.pk).update(deadline=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        runner.run_due()
    # then the step ran again with the same key and got the processor's original answer:
    # one payment, one authorization, recorded once, and the order confirmed
    assert order_get(order_id=order.order_id).status == "confirmed"
    payment = Payment.objects.get(order_id=order.order_id)
    assert payment.operations.filter(kind="authorize").count() == 1
    assert len(payment_processor.payment_intents()) == 1
    assert event_types(order.order_id).count("PaymentAuthorized") == 1
    step = SagaStep.objects.get(saga=claimed, step="authorize_payment", action="forward")
    assert (step.status, step.attempts) == ("succeeded", 2)
    # and the dying worker, had it come back, could not record anything any more
    with pytest.raises(engine.LeaseLost):
        dying.saga.status = SagaStatus.COMPLETED
        dying._save(deadline=None)
    assert_consistent(order.order_id)


def test_payment_timing_out_every_time_fails_the_order(customer, item, run, settings,
                                                       payment_processor):
    # given the processor never answers within the attempts allowed
    settings.PAYMENT_API_TIMEOUT_SECONDS = 0.5
    payment_processor.configure(timeouts_per_key=100)
    settings.SAGA_MAX_ATTEMPTS = 3
    # when
    order = run(customer, item, method="pm_card_timeout")
    # then the saga gives up: stock released, nothing charged, the order failed
    assert (order.status, order.failure_code) == ("failed", "payment_gateway_timeout")
    # the authorization the processor made (its answer never came) was found by its key
    # and voided: nothing was captured, the hold is released
    assert [(p.status, p.amount_captured) for p in Payment.objects.all()] == [("voided", 0)]
    assert [(i["status"], i["amount_received"]) for i in payment_processor.payment_intents()
            ] == [("canceled", 0)]
    assert stock(item) == (10, 0, 10)
    saga = fulfilment_saga(order.order_id)
    assert saga.status == SagaStatus.COMPENSATED
    step = SagaStep.objects.get(saga=saga, step="authorize_payment", action="forward")
    assert (step.status, step.attempts) == ("failed", 3)
    assert_consistent(order.order_id)


def test_metrics_count_outcomes_compensations_payments_and_step_time(customer, item, run):
    from prometheus_client import REGISTRY

    def sample(name, **labels):
        return REGISTRY.get_sample_value(name, labels) or 0

    before = (
        sample("commerce_saga_outcomes_total", saga_type="order_fulfilment",
               status="compensated"),
        sample("commerce_saga_compensations_total", saga_type="order_fulfilment",
               step="reserve_inventory"),
        sample("commerce_payments_total", action="authorize", outcome="declined"),
        sample("commerce_saga_step_seconds_count", saga_type="order_fulfilment",
               step="reserve_inventory"),
    )
    run(customer, item, method="pm_card_chargeDeclined")
    after = (
        sample("commerce_saga_outcomes_total", saga_type="order_fulfilment",
               status="compensated"),
        sample("commerce_saga_compensations_total", saga_type="order_fulfilment",
               step="reserve_inventory"),
        sample("commerce_payments_total", action="authorize", outcome="declined"),
        sample("commerce_saga_step_seconds_count", saga_type="order_fulfilment",
               step="reserve_inventory"),
    )
    # reserve_inventory ran forward and as a compensation: two timed runs
    assert [a - b for a, b in zip(after, before, strict=True)] == [1, 1, 1, 2]
