"""Two deliveries of the same step message at the same moment, on real threads against
PostgreSQL: the saga row lock lets one advance the saga; the effect happens once."""


import pytest

from payments.models import Payment, PaymentOperation
from sagas import engine
from sagas.models import SagaInstance
from tests.concurrency import run_concurrently
from tests.factories import make_item
from tests.sagas.helpers import fulfilment_saga, place, stock

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_duplicate_deliveries_advance_once(customer, payment_processor):
    # given a saga waiting at its authorize step (no messages sent: eager tasks would run
    # everything on commit, so the test drives the steps itself)
    payment_processor.configure(latency_ms=300)  # keep the first delivery busy
    item = make_item(quantity=5)
    from commerce.celery import app
    app.conf.task_always_eager = False
    try:
        app.control.purge()
        order = place(customer, item, quantity=2)
        saga = fulfilment_saga(order.order_id)
        engine.run_step(str(saga.id), 0, "forward")
        engine.run_step(str(saga.id), 1, "forward")
        app.control.purge()
        # when four deliveries of the authorize message race
        results = run_concurrently(
            [lambda: engine.run_step(str(saga.id), 2, "forward")] * 4)
        app.control.purge()
    finally:
        app.conf.task_always_eager = True
    # then exactly one advanced the saga; one payment, one reservation
    assert sorted(results) == ["stale", "stale", "stale", "succeeded"]
    assert SagaInstance.objects.get(pk=saga.pk).current_step == 3
    assert Payment.objects.count() == 1
    assert PaymentOperation.objects.count() == 1
    assert len(payment_processor.payment_intents()) == 1
    assert stock(item) == (5, 2, 3)
