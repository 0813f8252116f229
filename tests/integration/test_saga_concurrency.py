"""Several workers sweeping at the same moment, on real threads against PostgreSQL: each
due saga is claimed by exactly one of them and its effects happen once."""

import pytest

from payments.models import Payment, PaymentOperation
from sagas import runner
from sagas.models import SagaInstance, SagaStatus, SagaStep
from tests.concurrency import run_concurrently
from tests.factories import make_item
from tests.sagas.helpers import place, stock

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_sweeps_run_each_saga_once(customer, real_celery, payment_processor):
    # given ten placed orders whose wake-ups were not delivered (tasks go to the broker,
    # purged), and a processor slow enough to keep the first sweeper busy
    payment_processor.configure(latency_ms=200)
    item = make_item(quantity=50)
    orders = [place(customer, item, quantity=2) for _ in range(10)]
    real_celery.control.purge()
    # when four workers sweep at once, in batches of three
    results = run_concurrently([lambda: runner.run_due(limit=3)] * 4)
    real_celery.control.purge()
    # then every saga completed exactly once: one claim per step, one charge per order
    assert sum(r.get("completed", 0) for r in results) == 10, results
    assert set(SagaInstance.objects.values_list("status", flat=True)) == {SagaStatus.COMPLETED}
    assert set(SagaStep.objects.values_list("attempts", flat=True)) == {1}
    assert Payment.objects.count() == 10
    assert PaymentOperation.objects.filter(kind="authorize").count() == 10
    assert PaymentOperation.objects.filter(kind="capture").count() == 10
    assert len(payment_processor.payment_intents()) == 10
    assert stock(item) == (50, 20, 30)
    assert {o.order_id for o in orders} == set(Payment.objects.values_list("order_id",
                                                                            flat=True))
