"""The cancellation saga (eager Celery, on-commit callbacks executed in the test)."""

from decimal import Decimal

import pytest
from django.utils import timezone

from commerce.eventstore.models import Event
from inventory.selectors import reservation_get_for_order
from orders import services as order_services
from orders.selectors import order_get
from payments.models import Payment
from sagas import engine, runner
from sagas.models import SagaStatus
from tests.conftest import auth_client
from tests.factories import make_item
from tests.sagas.helpers import (
    assert_consistent,
    cancellation_saga,
    fulfilment_saga,
    place,
    run_until,
    stock,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def confirmed(customer, django_capture_on_commit_callbacks):
    """A confirmed order for `price` × 2 (saga run to the end)."""
    def make(price="10.00"):
        item = make_item(price=price, quantity=10)
        with django_capture_on_commit_callbacks(execute=True):
            order = place(customer, item, quantity=2)
        assert order_get(order_id=order.order_id).status == "confirmed"
        return order.order_id, item
    return make


@pytest.fixture
def cancel(django_capture_on_commit_callbacks):
    def go(order_id, reason="changed my mind"):
        with django_capture_on_commit_callbacks(execute=True):
            order_services.order_request_cancellation(order_id=order_id, reason=reason)
        return order_get(order_id=order_id)
    return go


def test_cancellation_after_capture_refunds_and_releases(confirmed, cancel):
    # given
    order_id, item = confirmed()
    # when
    order = cancel(order_id)
    # then
    assert order.status == "cancelled"
    payment = Payment.objects.get(order_id=order_id)
    assert (payment.status, payment.amount_refunded) == ("refunded", Decimal("20.00"))
    assert order.refunded_amount == Decimal("20.00")
    assert reservation_get_for_order(order_id=order_id).status == "released"
    assert stock(item) == (10, 0, 10)
    saga = cancellation_saga(order_id)
    assert saga.status == SagaStatus.COMPLETED
    assert saga.saga_data["payment_settled"] == "refunded"
    assert_consistent(order_id)


def test_cancellation_before_capture_voids(customer, django_capture_on_commit_callbacks):
    # given an order whose fulfilment authorized the payment (the rest not yet delivered)
    item = make_item(price="10.00", quantity=10)
    with django_capture_on_commit_callbacks(execute=False):
        order = place(customer, item, quantity=2)
    saga = run_until(fulfilment_saga(order.order_id), "confirm_reservation")
    # when the customer cancels, fulfilment's next step hands the order over, and the
    # cancellation saga (waiting for fulfilment to end) settles
    with django_capture_on_commit_callbacks(execute=True):
        order_services.order_request_cancellation(order_id=order.order_id, reason="oops")
    saga.refresh_from_db()
    assert saga.status == SagaStatus.COMPLETED
    assert saga.saga_data["ended_at_step"] == "confirm_reservation"
    # then the authorization is voided, nothing captured, stock released, order cancelled
    payment = Payment.objects.get(order_id=order.order_id)
    assert (payment.status, payment.amount_captured) == ("voided", Decimal("0.00"))
    assert [op.kind for op in payment.operations.all()] == ["authorize", "void"]
    assert order_get(order_id=order.order_id).status == "cancelled"
    assert stock(item) == (10, 0, 10)
    assert cancellation_saga(order.order_id).saga_data["payment_settled"] == "voided"
    assert_consistent(order.order_id)


def test_cancellation_waits_while_fulfilment_runs(customer, django_capture_on_commit_callbacks):
    # given fulfilment still running and a cancellation requested
    item = make_item(quantity=10)
    with django_capture_on_commit_callbacks(execute=False):
        order = place(customer, item)
        order_services.order_request_cancellation(order_id=order.order_id, reason="x")
    saga = cancellation_saga(order.order_id)
    # when its first step runs (alone: the fulfilment saga's turn has not come)
    [claimed] = runner.claim_due(limit=1, saga_ids=[saga.pk])
    run = engine.SagaRun(claimed)
    assert run.advance() is None
    # then it is rescheduled a little later, without counting an attempt
    assert run.result == "pending"
    saga.refresh_from_db()
    assert (saga.status, saga.current_step, saga.attempts) == (SagaStatus.RUNNING, 0, 0)
    assert saga.lease_id is None and saga.deadline > timezone.now()


def test_large_refund_waits_for_approval_then_approve_refunds(
        confirmed, cancel, staff_api, django_capture_on_commit_callbacks):
    # given a 600.00 order (threshold 500.00)
    order_id, item = confirmed(price="300.00")
    # when cancelled
    order = cancel(order_id)
    # then it waits; nothing moved yet
    saga = cancellation_saga(order_id)
    assert saga.status == SagaStatus.AWAITING_APPROVAL
    assert order.status == "confirmed" and order.cancellation_pending
    assert Payment.objects.get(order_id=order_id).status == "captured"
    # when staff approve over the API
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_api.post(f"/api/v1/orders/{order_id}/cancel/approve/",
                                  {"approve": True, "reason": "ok"}, format="json")
    # then
    assert response.status_code == 200, response.content
    assert response.json()["saga_data"]["approval"]["approved"] is True
    assert order_get(order_id=order_id).status == "cancelled"
    assert Payment.objects.get(order_id=order_id).amount_refunded == Decimal("600.00")
    assert stock(item) == (10, 0, 10)
    assert_consistent(order_id)


def test_large_refund_rejected_leaves_the_order_unchanged(
        confirmed, cancel, staff_api, django_capture_on_commit_callbacks):
    order_id, item = confirmed(price="300.00")
    cancel(order_id)
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_api.post(f"/api/v1/orders/{order_id}/cancel/approve/",
                                  {"approve": False, "reason": "policy"}, format="json")
    assert response.status_code == 200, response.content
    order = order_get(order_id=order_id)
    assert (order.status, order.cancellation_pending) == ("confirmed", False)
    assert Event.objects.filter(aggregate_id=order_id).latest("version").event_type == \
        "CancellationRejected"
    payment = Payment.objects.get(order_id=order_id)
    assert (payment.status, payment.amount_refunded) == ("captured", Decimal("0.00"))
    assert stock(item) == (10, 2, 8)
    assert cancellation_saga(order_id).status == SagaStatus.COMPENSATED
    assert_consistent(order_id)


def test_cancellation_after_fulfilment_needs_approval_then_restocks(
        confirmed, cancel, django_capture_on_commit_callbacks):
    # given a shipped order (stock left the warehouse)
    order_id, item = confirmed()
    order_services.order_ship(order_id=order_id, carrier="DHL", tracking_number="1")
    assert stock(item) == (8, 0, 8)
    # when cancelled, then approved
    cancel(order_id)
    saga = cancellation_saga(order_id)
    assert saga.status == SagaStatus.AWAITING_APPROVAL
    assert saga.saga_data["approval_reasons"] == ["order already fulfilled"]
    from sagas.services import saga_decide_approval
    with django_capture_on_commit_callbacks(execute=True):
        saga_decide_approval(saga_id=saga.id, approve=True, reason="returned")
    # then refunded and the units put back
    assert order_get(order_id=order_id).status == "cancelled"
    assert reservation_get_for_order(order_id=order_id).status == "restocked"
    assert stock(item) == (10, 0, 10)
    assert_consistent(order_id)


def test_approve_endpoint_permissions(confirmed, cancel, customer, api, make_staff):
    # given a cancellation waiting for approval
    order_id, _ = confirmed(price="300.00")
    cancel(order_id)
    url = f"/api/v1/orders/{order_id}/cancel/approve/"
    # anonymous 401; the customer and inventory-only staff 403
    from commerce.accounts import roles
    assert api.post(url, {"approve": True}, format="json").status_code == 401
    for user in (customer, make_staff(roles.INVENTORY)):
        assert auth_client(user).post(url, {"approve": True},
                                      format="json").status_code == 403
    # and nothing was decided
    assert cancellation_saga(order_id).status == SagaStatus.AWAITING_APPROVAL
    # support staff may decide
    r = auth_client(make_staff(roles.SUPPORT)).post(url, {"approve": False}, format="json")
    assert r.status_code == 200


def test_approve_endpoint_validation_and_state(confirmed, staff_api):
    order_id, _ = confirmed()
    url = f"/api/v1/orders/{order_id}/cancel/approve/"
    bad = staff_api.post(url, {"approve": "maybe"}, format="json")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "validation_error"
    none = staff_api.post(url, {"approve": True}, format="json")
    assert none.status_code == 404 and none.json()["error"]["code"] == "not_found"
    import uuid
    other = staff_api.post(f"/api/v1/orders/{uuid.uuid4()}/cancel/approve/",
                           {"approve": True}, format="json")
    assert other.status_code == 404
    malformed = staff_api.post(url, "{not json", content_type="application/json")
    assert malformed.status_code == 400


def test_deciding_a_cancellation_that_does_not_wait_is_409(confirmed, cancel, staff_api):
    order_id, _ = confirmed()
    cancel(order_id)  # small refund: no approval needed, already done
    r = staff_api.post(f"/api/v1/orders/{order_id}/cancel/approve/", {"approve": True},
                       format="json")
    assert r.status_code == 409 and r.json()["error"]["code"] == "invalid_saga_state"
    assert order_get(order_id=order_id).status == "cancelled"


def test_cancellation_before_anything_was_reserved(customer, django_capture_on_commit_callbacks):
    # given an order cancelled in the same moment it was placed (no step ran yet)
    item = make_item(quantity=10)
    with django_capture_on_commit_callbacks(execute=True):
        order = place(customer, item)
        order_services.order_request_cancellation(order_id=order.order_id, reason="typo")
    # then fulfilment stopped before reserving and the cancellation had nothing to undo
    assert fulfilment_saga(order.order_id).saga_data["ended_at_step"] == "reserve_inventory"
    assert order_get(order_id=order.order_id).status == "cancelled"
    assert reservation_get_for_order(order_id=order.order_id) is None
    assert not Payment.objects.exists()
    assert stock(item) == (10, 0, 10)
    assert cancellation_saga(order.order_id).saga_data["payment_settled"] == "none"
    assert_consistent(order.order_id)


def test_refusal_after_money_moved_fails_the_saga_for_staff(
        confirmed, cancel, monkeypatch, django_capture_on_commit_callbacks):
    # given restoring stock is refused after the refund went through
    from commerce.core.errors import Conflict
    from inventory import services as inventory_services
    real_release = inventory_services.reservation_release

    def refuse(**_):
        raise Conflict("warehouse says no")
    monkeypatch.setattr(inventory_services, "reservation_release", refuse)
    order_id, item = confirmed()
    # when
    order = cancel(order_id)
    # then the cancellation is not silently rejected: the saga is FAILED for a person
    saga = cancellation_saga(order_id)
    assert saga.status == SagaStatus.FAILED
    assert "Money already moved" in saga.last_error
    assert order.status == "confirmed" and order.cancellation_pending
    assert Payment.objects.get(order_id=order_id).status == "refunded"
    # when the fault is fixed and staff resume it forward
    monkeypatch.setattr(inventory_services, "reservation_release", real_release)
    from sagas.services import saga_resume_forward
    with django_capture_on_commit_callbacks(execute=True):
        saga_resume_forward(saga_id=saga.id)
    # then the cancellation completes
    saga.refresh_from_db()
    assert saga.status == SagaStatus.COMPLETED
    assert order_get(order_id=order_id).status == "cancelled"
    assert stock(item) == (10, 0, 10)
    assert_consistent(order_id)
