"""Start sagas from order events. Policies run inside the appending transaction (live
appends only, never on replay): the saga row commits with the event, and its first step is
sent after commit, so a rolled-back order starts nothing."""

from contextlib import contextmanager

from commerce.eventstore.policies import policy, unregister
from sagas.flows import cancellation, fulfilment, refund
from sagas.models import ACTIVE_STATUSES, SagaInstance
from sagas.services import saga_start


@policy("OrderPlaced")
def start_fulfilment(event) -> None:
    saga_start(saga_type=fulfilment.SAGA_TYPE, correlation_id=event.aggregate_id,
               data=fulfilment.initial_data(event))


@policy("CancellationRequested")
def start_cancellation(event) -> None:
    if SagaInstance.objects.filter(correlation_id=event.aggregate_id,
                                   saga_type=cancellation.SAGA_TYPE,
                                   status__in=ACTIVE_STATUSES).exists():
        return  # one cancellation at a time; the running one already reacts
    saga_start(saga_type=cancellation.SAGA_TYPE, correlation_id=event.aggregate_id,
               data=cancellation.initial_data(event))


@policy("RefundRequested")
def start_refund(event) -> None:
    saga_start(saga_type=refund.SAGA_TYPE, correlation_id=event.aggregate_id,
               data=refund.initial_data(event))


@contextmanager
def suspended():
    """Tests of other apps that drive the order lifecycle by hand (calling the saga-facing
    commands themselves) use this so the real sagas do not run alongside in eager mode:
    `with suspended(): ...` or an autouse fixture around it."""
    handlers = {"OrderPlaced": start_fulfilment, "CancellationRequested": start_cancellation,
                "RefundRequested": start_refund}
    for fn in handlers.values():
        unregister(fn)
    try:
        yield
    finally:
        for event_type, fn in handlers.items():
            policy(event_type)(fn)
