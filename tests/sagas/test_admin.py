"""Back office: saga list with status filter, steps inline, repair and approval actions."""

import pytest

from orders import services as order_services
from orders.selectors import order_get
from payments.models import Payment
from sagas.models import SagaStatus
from tests.factories import make_item
from tests.sagas.helpers import (
    assert_consistent,
    cancellation_saga,
    fulfilment_saga,
    place,
    run_until,
)

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/sagas/sagainstance/"


@pytest.fixture
def admin_client(client, make_staff):
    user = make_staff()
    user.is_superuser = True
    user.save()
    client.force_login(user)
    return client


def act(client, capture, action, saga):
    with capture(execute=True):
        response = client.post(CHANGELIST, {"action": action,
                                            "_selected_action": [str(saga.id)]})
    assert response.status_code == 302
    saga.refresh_from_db()
    return saga


def test_list_detail_and_filter(admin_client, customer, django_capture_on_commit_callbacks):
    item = make_item(quantity=5)
    with django_capture_on_commit_callbacks(execute=True):
        order = place(customer, item)
    saga = fulfilment_saga(order.order_id)
    assert str(saga.id) in admin_client.get(CHANGELIST + "?status__exact=completed"
                                            ).content.decode()
    assert str(saga.id) not in admin_client.get(CHANGELIST + "?status__exact=failed"
                                                ).content.decode()
    detail = admin_client.get(f"{CHANGELIST}{saga.id}/change/").content.decode()
    assert "authorize_payment" in detail and "capture_payment" in detail


def test_force_compensation_from_the_admin(admin_client, customer,
                                           django_capture_on_commit_callbacks):
    # given a fulfilment stuck after authorizing (its next message lost)
    item = make_item(price="5.00", quantity=5)
    with django_capture_on_commit_callbacks(execute=False):
        order = place(customer, item)
    saga = run_until(fulfilment_saga(order.order_id), "confirm_reservation")
    # when staff force compensation
    saga = act(admin_client, django_capture_on_commit_callbacks, "force_compensation", saga)
    # then the authorization is voided, stock released, the order failed
    assert saga.status == SagaStatus.COMPENSATED
    assert Payment.objects.get(order_id=order.order_id).status == "voided"
    view = order_get(order_id=order.order_id)
    assert (view.status, view.failure_code) == ("failed", "forced_compensation")
    assert_consistent(order.order_id)


def test_approve_and_reject_actions(admin_client, customer, django_capture_on_commit_callbacks):
    item = make_item(price="400.00", quantity=10)
    sagas = []
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            order = place(customer, item, quantity=2)
        with django_capture_on_commit_callbacks(execute=True):
            order_services.order_request_cancellation(order_id=order.order_id, reason="x")
        sagas.append(cancellation_saga(order.order_id))
    assert [s.status for s in sagas] == [SagaStatus.AWAITING_APPROVAL] * 2
    approved = act(admin_client, django_capture_on_commit_callbacks, "approve_cancellation",
                   sagas[0])
    rejected = act(admin_client, django_capture_on_commit_callbacks, "reject_cancellation",
                   sagas[1])
    assert order_get(order_id=approved.correlation_id).status == "cancelled"
    assert order_get(order_id=rejected.correlation_id).status == "confirmed"
    assert (approved.status, rejected.status) == (SagaStatus.COMPLETED, SagaStatus.COMPENSATED)
    for saga in (approved, rejected):
        assert_consistent(saga.correlation_id)


def test_action_on_a_finished_saga_reports_an_error(admin_client, customer,
                                                    django_capture_on_commit_callbacks):
    item = make_item(quantity=5)
    with django_capture_on_commit_callbacks(execute=True):
        order = place(customer, item)
    saga = act(admin_client, django_capture_on_commit_callbacks, "retry_failed_step",
               fulfilment_saga(order.order_id))
    assert saga.status == SagaStatus.COMPLETED
