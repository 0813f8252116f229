"""The order streams a worker keeps between batch steps (orders/batch.py): a kept stream
saves the next step's read, and a stale one never decides anything."""

import dataclasses
import uuid

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from commerce.core.errors import ConcurrencyError
from commerce.eventstore import store
from orders import batch, services
from orders.selectors import order_get

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _nothing_kept():
    batch.forget_kept_streams()
    yield
    batch.forget_kept_streams()


def _decide(decisions):
    with transaction.atomic():  # committed: the kept streams are those of a commit
        return batch.orders_decide_many(decisions=decisions)


def _event_reads(queries) -> int:
    """Statements that read events' data (not the check of each stream's newest event)."""
    return sum(1 for q in queries if q["sql"].startswith("SELECT") and "FROM events" in q["sql"]
               and "DISTINCT ON" not in q["sql"])


def test_the_next_step_starts_from_the_kept_stream_without_reading_it(place, no_policies):
    # given two orders whose reservations a batch step recorded (and committed)
    orders = [place(), place()]
    reservations = {o.order_id: uuid.uuid4() for o in orders}
    assert _decide({o.order_id: services.mark_reserved(reservations[o.order_id])
                    for o in orders}) == {o.order_id: None for o in orders}
    # when the next step decides on them
    payments = {o.order_id: uuid.uuid4() for o in orders}
    with CaptureQueriesContext(connection) as queries:
        outcomes = _decide({o.order_id: services.mark_payment_authorized(
            payments[o.order_id], o.total_amount) for o in orders})
    # then their events were not read again (one check of each stream's newest event), and
    # the store holds exactly what a fresh load would have decided
    assert outcomes == {o.order_id: None for o in orders}
    assert _event_reads(queries) == 0
    for o in orders:
        assert [e.event_type for e in store.load(o.order_id)] == [
            "OrderPlaced", "InventoryReserved", "PaymentAuthorized"]
        assert order_get(order_id=o.order_id).status == "paid"
    # and a repeat of the same decision, from the kept stream, records nothing more
    again = _decide({o.order_id: services.mark_payment_authorized(
        payments[o.order_id], o.total_amount) for o in orders})
    assert again == {o.order_id: None for o in orders}
    assert [len(store.load(o.order_id)) for o in orders] == [3, 3]


def test_a_stream_appended_to_meanwhile_is_read_afresh(place, no_policies):
    # given an order whose reservation a batch step recorded (its stream kept)
    order = place()
    _decide({order.order_id: services.mark_reserved(uuid.uuid4())})
    # and another writer appends meanwhile (the customer asks to cancel)
    services.order_request_cancellation(order_id=order.order_id, reason="changed my mind")
    # when the next step decides on it
    with CaptureQueriesContext(connection) as queries:
        outcome = _decide({order.order_id: services.mark_payment_authorized(
            uuid.uuid4(), order.total_amount)})
    # then the kept copy was seen to be behind, and the stream read from the store
    assert outcome == {order.order_id: None}
    assert _event_reads(queries) == 1
    assert [e.event_type for e in store.load(order.order_id)][-2:] == [
        "CancellationRequested", "PaymentAuthorized"]


def test_a_kept_stream_the_store_no_longer_holds_is_not_used(place, no_policies):
    # given a kept stream one event ahead of the store (the database was restored to an
    # earlier point meanwhile)
    order = place()
    _decide({order.order_id: services.mark_reserved(uuid.uuid4())})
    kept = batch._kept[order.order_id]
    batch._kept[order.order_id] = [*kept, dataclasses.replace(
        kept[-1], id=uuid.uuid4(), version=kept[-1].version + 1)]
    # when the next step decides, then it reads the store and appends right after it
    assert _decide({order.order_id: services.mark_payment_authorized(
        uuid.uuid4(), order.total_amount)}) == {order.order_id: None}
    assert [e.version for e in store.load(order.order_id)] == [1, 2, 3]


def test_a_stale_stream_that_slipped_through_fails_its_append_and_stores_nothing(
        place, no_policies, monkeypatch):
    # given a kept stream behind the store, and the check of it not done
    order = place()
    _decide({order.order_id: services.mark_reserved(uuid.uuid4())})
    services.order_request_cancellation(order_id=order.order_id, reason="changed my mind")
    kept = batch._kept[order.order_id]
    monkeypatch.setattr(store, "last_event_ids", lambda ids: {order.order_id: kept[-1].id})
    before = [e.id for e in store.load(order.order_id)]
    # when the next step decides from it, then its append is refused and nothing is stored
    with pytest.raises(ConcurrencyError):
        _decide({order.order_id: services.mark_payment_authorized(uuid.uuid4(),
                                                                  order.total_amount)})
    assert [e.id for e in store.load(order.order_id)] == before


def test_a_rolled_back_step_keeps_nothing(place, no_policies):
    # given an order whose step is decided but its transaction rolled back
    order = place()
    with pytest.raises(RuntimeError), transaction.atomic():
        batch.orders_decide_many(decisions={order.order_id: services.mark_reserved(uuid.uuid4())})
        raise RuntimeError("the rest of the batch failed")
    # when the step runs again, then it reads the store (nothing of the rolled-back try)
    reservation_id = uuid.uuid4()
    with CaptureQueriesContext(connection) as queries:
        _decide({order.order_id: services.mark_reserved(reservation_id)})
    assert _event_reads(queries) == 1
    assert [e.event_type for e in store.load(order.order_id)] == [
        "OrderPlaced", "InventoryReserved"]
    assert order_get(order_id=order.order_id).reservation_id == reservation_id


def test_a_confirmed_orders_stream_is_not_kept(place, no_policies):
    # given an order taken through its batch steps to confirmed
    order = place()
    payment_id = uuid.uuid4()
    for decision in (services.mark_reserved(uuid.uuid4()),
                     services.mark_payment_authorized(payment_id, order.total_amount),
                     services.mark_payment_captured(payment_id, order.total_amount),
                     services.record_once("confirm", "OrderConfirmed")):
        _decide({order.order_id: decision})
    # then nothing is kept for it: no batch step is left for a confirmed order
    assert order_get(order_id=order.order_id).status == "confirmed"
    assert order.order_id not in batch._kept
