"""A slow payment processor holds no database lock: while a saga waits for its answer,
other transactions update that saga's and that payment's rows without waiting."""

import threading

import pytest
from django.db import connection, transaction

from payments.models import Payment
from sagas import runner
from sagas.models import SagaInstance, SagaStatus
from tests.factories import make_item
from tests.integration.worker import wait_for
from tests.sagas.helpers import fulfilment_saga, place

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_gateway_call_that_blocks_holds_no_row_lock(customer, real_celery,
                                                      payment_processor):
    # given a processor that takes 2 s to answer, and a worker running the saga
    payment_processor.configure(latency_ms=2000)
    item = make_item(quantity=5)
    order = place(customer, item)
    saga = fulfilment_saga(order.order_id)
    worker = threading.Thread(target=lambda: (runner.run_due(), connection.close()))
    worker.start()
    try:
        # when the authorization call is in flight (its intent recorded and committed)
        payment = wait_for(lambda: Payment.objects.filter(order_id=order.order_id,
                                                          status="pending").first(),
                           timeout=30, what="the authorization intent")
        # then another transaction updates the saga's and the payment's rows at once
        # (lock_timeout makes a waiting statement fail instead of hanging)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '300ms'")
            assert SagaInstance.objects.filter(pk=saga.pk).update(last_error="") == 1
            assert Payment.objects.filter(pk=payment.pk).update(failure_message="") == 1
            assert worker.is_alive()  # the call was still in flight meanwhile
    finally:
        worker.join(30)
    # and the saga went on to confirm the order once the answer came
    assert SagaInstance.objects.get(pk=saga.pk).status == SagaStatus.COMPLETED

