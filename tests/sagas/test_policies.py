import pytest

from sagas.models import SagaInstance
from sagas.policies import suspended
from tests.factories import make_item
from tests.sagas.helpers import place

pytestmark = pytest.mark.django_db


def test_order_placed_starts_one_fulfilment_saga_in_the_same_transaction(customer):
    order = place(customer, make_item())
    saga = SagaInstance.objects.get(correlation_id=order.order_id)
    assert (saga.saga_type, saga.status, saga.current_step) == ("order_fulfilment", "running", 0)
    assert saga.saga_data["total"] == "20.00" and saga.deadline is not None


def test_failed_placement_starts_nothing(customer):
    from commerce.core.errors import ValidationFailed
    with pytest.raises(ValidationFailed):
        place(customer, make_item(), quantity=0)
    assert not SagaInstance.objects.exists()


def test_suspended_policies_start_nothing_and_are_restored(customer):
    item = make_item()
    with suspended():
        place(customer, item)
    assert not SagaInstance.objects.exists()
    place(customer, item)
    assert SagaInstance.objects.count() == 1
