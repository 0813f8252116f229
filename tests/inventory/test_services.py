import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from commerce.core import context
from commerce.core.errors import ValidationFailed
from commerce.eventstore.models import Event
from inventory import events as ev
from inventory import services
from inventory.errors import InsufficientStock, InvalidReservationState, UnknownSku
from inventory.models import Reservation, StockMovement
from inventory.selectors import reservation_get_for_order
from tests.factories import make_item
from tests.inventory.helpers import levels, write_counts

pytestmark = pytest.mark.django_db


def test_reserve_confirm_fulfill_flow_moves_stock_and_records_each_step():
    # given two items
    make_item(sku="A-1", quantity=10)
    make_item(sku="B-1", quantity=5)
    order_id = uuid.uuid4()
    # when an order reserves both
    with context.bind(actor="user:test"):
        reservation = services.stock_reserve(
            order_id=order_id, lines=[{"sku": "B-1", "quantity": 2}, {"sku": "A-1", "quantity": 3}])
    # then the stock is held
    assert reservation.status == "reserved"
    assert reservation.id == ev.reservation_id(order_id)
    assert [(x.sku, x.quantity) for x in reservation.lines.all()] == [("A-1", 3), ("B-1", 2)]
    assert levels("A-1") == (10, 3, 7)
    assert levels("B-1") == (5, 2, 3)
    # when it is confirmed, then nothing moves
    assert services.reservation_confirm(order_id=order_id).status == "confirmed"
    assert levels("A-1") == (10, 3, 7)
    # when it is fulfilled, then the units leave: total and reserved drop
    assert services.reservation_fulfill(order_id=order_id).status == "fulfilled"
    assert levels("A-1") == (7, 0, 7)
    assert levels("B-1") == (3, 0, 3)
    # and every step is an event on the reservation's own stream, with the actor
    stream = list(Event.objects.filter(aggregate_id=reservation.id).order_by("version")
                  .values_list("event_type", "actor"))
    assert stream == [("StockReserved", "user:test"), ("ReservationConfirmed", None),
                      ("ReservationFulfilled", None)]
    # and the movement ledger of A-1 tells the same story
    assert list(StockMovement.objects.filter(sku="A-1").order_by("position")
                .values_list("kind", "total_delta", "reserved_delta", "actor")) == [
        ("received", 10, 0, None), ("reserved", 0, 3, "user:test"), ("confirmed", 0, 0, None),
        ("fulfilled", -3, -3, None)]


def test_reserve_with_one_short_line_reserves_nothing():
    # given one sku with plenty and one with too little
    make_item(sku="PLENTY", quantity=50)
    make_item(sku="SHORT", quantity=1)
    before = write_counts()
    # when an order asks for both
    with pytest.raises(InsufficientStock) as exc:
        services.stock_reserve(order_id=uuid.uuid4(), lines=[
            {"sku": "PLENTY", "quantity": 5}, {"sku": "SHORT", "quantity": 2}])
    # then it is refused naming the short line with what is available
    assert exc.value.code == "insufficient_stock"
    assert exc.value.details == {"lines": [{"sku": "SHORT", "requested": 2, "available": 1}]}
    # and nothing was reserved or written
    assert write_counts() == before
    assert levels("PLENTY") == (50, 0, 50)


def test_reserve_unknown_sku_is_a_400_and_writes_nothing():
    make_item(sku="KNOWN")
    before = write_counts()
    with pytest.raises(UnknownSku) as exc:
        services.stock_reserve(order_id=uuid.uuid4(), lines=[
            {"sku": "KNOWN", "quantity": 1}, {"sku": "GHOST", "quantity": 1}])
    assert (exc.value.code, exc.value.http_status) == ("unknown_sku", 400)
    assert exc.value.details == {"lines": [{}, {"sku": ["Unknown sku."]}], "skus": ["GHOST"]}
    assert write_counts() == before


@pytest.mark.parametrize("lines", [
    [], [{"sku": "X", "quantity": 0}], [{"sku": "X", "quantity": -3}],
    [{"sku": "X", "quantity": "2"}], [{"sku": "X", "quantity": 1.5}], [{"quantity": 1}],
    "not-a-list", [{"sku": "X", "quantity": 10**12}],
])
def test_reserve_rejects_bad_lines(lines):
    make_item(sku="X")
    before = write_counts()
    with pytest.raises(ValidationFailed) as exc:
        services.stock_reserve(order_id=uuid.uuid4(), lines=lines)
    assert exc.value.code == "validation_error"
    assert "lines" in exc.value.details
    assert write_counts() == before


def test_reserve_twice_for_one_order_holds_stock_once():
    # given a reservation for an order
    make_item(sku="IDEM", quantity=10)
    order_id = uuid.uuid4()
    first = services.stock_reserve(order_id=order_id, lines=[{"sku": "IDEM", "quantity": 4}])
    events_before = Event.objects.count()
    # when the same order reserves again (even with other lines)
    second = services.stock_reserve(order_id=order_id, lines=[{"sku": "IDEM", "quantity": 9}])
    # then the existing reservation is returned and nothing more is held
    assert second.id == first.id
    assert [(x.sku, x.quantity) for x in second.lines.all()] == [("IDEM", 4)]
    assert levels("IDEM") == (10, 4, 6)
    assert Event.objects.count() == events_before


def test_duplicate_sku_lines_are_summed():
    make_item(sku="SUM", quantity=10)
    r = services.stock_reserve(order_id=uuid.uuid4(), lines=[
        {"sku": "SUM", "quantity": 2}, {"sku": "SUM", "quantity": 3}])
    assert [(x.sku, x.quantity) for x in r.lines.all()] == [("SUM", 5)]
    assert levels("SUM") == (10, 5, 5)


def test_repeated_lifecycle_commands_are_no_ops():
    make_item(sku="REP", quantity=10)
    order_id = uuid.uuid4()
    services.stock_reserve(order_id=order_id, lines=[{"sku": "REP", "quantity": 2}])
    services.reservation_confirm(order_id=order_id)
    events_before = Event.objects.count()
    # when confirm runs again, then nothing is recorded
    assert services.reservation_confirm(order_id=order_id).status == "confirmed"
    assert Event.objects.count() == events_before
    # release twice (as the failing order's saga does): the second is a no-op
    services.reservation_release(order_id=order_id, reason="payment failed", order_ending=True)
    events_after_release = Event.objects.count()
    again = services.reservation_release(order_id=order_id, reason="payment failed",
                                         order_ending=True)
    assert again.status == "released"
    assert again.reason == "payment failed"
    assert Event.objects.count() == events_after_release
    assert levels("REP") == (10, 0, 10)


def test_release_after_fulfil_is_refused_and_changes_nothing():
    make_item(sku="RAF", quantity=5)
    order_id = uuid.uuid4()
    services.stock_reserve(order_id=order_id, lines=[{"sku": "RAF", "quantity": 2}])
    services.reservation_fulfill(order_id=order_id)
    before = write_counts()
    with pytest.raises(InvalidReservationState) as exc:
        services.reservation_release(order_id=order_id, reason="too late")
    assert (exc.value.code, exc.value.http_status) == ("invalid_reservation_state", 409)
    assert exc.value.details["status"] == "fulfilled"
    assert write_counts() == before
    assert levels("RAF") == (3, 0, 3)


def test_a_confirmed_reservation_is_released_only_by_its_order_ending():
    # given a confirmed reservation (the order is paid)
    make_item(sku="CONF", quantity=1)
    order_id = uuid.uuid4()
    services.stock_reserve(order_id=order_id, lines=[{"sku": "CONF", "quantity": 1}])
    services.reservation_confirm(order_id=order_id)
    before = write_counts()
    # when anyone but the order's cancellation or failure releases it, then it is refused
    with pytest.raises(InvalidReservationState) as exc:
        services.reservation_release(order_id=order_id, reason="by hand")
    assert (exc.value.code, exc.value.http_status) == ("invalid_reservation_state", 409)
    assert exc.value.details == {"status": "confirmed", "order_id": str(order_id)}
    assert write_counts() == before and levels("CONF") == (1, 1, 0)
    # and the order ending releases it
    assert services.reservation_release(order_id=order_id, reason="order cancelled",
                                        order_ending=True).status == "released"
    assert levels("CONF") == (1, 0, 1)


def test_an_unconfirmed_reservation_may_still_be_released_by_hand():
    make_item(sku="UNCONF", quantity=1)
    order_id = uuid.uuid4()
    services.stock_reserve(order_id=order_id, lines=[{"sku": "UNCONF", "quantity": 1}])
    assert services.reservation_release(order_id=order_id, reason="x").status == "released"


@pytest.mark.parametrize(("setup", "command"), [
    (["release"], "confirm"), (["release"], "fulfill"), (["reserve"], "restock"),
    (["confirm"], "restock"),
])
def test_illegal_transitions_are_refused(setup, command):
    make_item(sku="ILL", quantity=5)
    order_id = uuid.uuid4()
    services.stock_reserve(order_id=order_id, lines=[{"sku": "ILL", "quantity": 1}])
    for step in setup:
        if step == "release":
            services.reservation_release(order_id=order_id, reason="x")
        elif step == "confirm":
            services.reservation_confirm(order_id=order_id)
    before = write_counts()
    with pytest.raises(InvalidReservationState):
        if command == "restock":
            services.reservation_restock(order_id=order_id, reason="x")
        else:
            getattr(services, f"reservation_{command}")(order_id=order_id)
    assert write_counts() == before


def test_restock_after_fulfil_puts_units_back_once():
    make_item(sku="RS", quantity=5)
    order_id = uuid.uuid4()
    services.stock_reserve(order_id=order_id, lines=[{"sku": "RS", "quantity": 2}])
    services.reservation_fulfill(order_id=order_id)
    assert levels("RS") == (3, 0, 3)
    assert services.reservation_restock(order_id=order_id, reason="returned").status == \
        "restocked"
    services.reservation_restock(order_id=order_id, reason="returned")
    assert levels("RS") == (5, 0, 5)


def test_expiry_releases_only_overdue_unconfirmed_reservations():
    # given three reservations: overdue, overdue but confirmed, not yet due
    make_item(sku="EXP", quantity=10)
    overdue, paid, fresh = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    services.stock_reserve(order_id=overdue, lines=[{"sku": "EXP", "quantity": 1}],
                           ttl_seconds=60)
    services.stock_reserve(order_id=paid, lines=[{"sku": "EXP", "quantity": 2}], ttl_seconds=60)
    services.reservation_confirm(order_id=paid)
    services.stock_reserve(order_id=fresh, lines=[{"sku": "EXP", "quantity": 3}],
                           ttl_seconds=3600)
    assert levels("EXP") == (10, 6, 4)
    # when the sweep runs two minutes later
    later = timezone.now() + timedelta(minutes=2)
    assert services.reservations_expire_due(now=later) == 1
    # then only the overdue one released its stock
    assert reservation_get_for_order(order_id=overdue).status == "expired"
    assert reservation_get_for_order(order_id=paid).status == "confirmed"
    assert reservation_get_for_order(order_id=fresh).status == "reserved"
    assert levels("EXP") == (10, 5, 5)
    # and a second sweep does nothing
    assert services.reservations_expire_due(now=later) == 0
    # and an expired reservation cannot be confirmed any more
    with pytest.raises(InvalidReservationState):
        services.reservation_confirm(order_id=overdue)


def test_expire_task_runs_the_sweep(monkeypatch):
    from inventory import reservations
    from inventory.tasks import expire_reservations

    # given a reservation whose one-second deadline has passed (the clock is moved on)
    make_item(sku="TASK", quantity=3)
    order_id = uuid.uuid4()
    services.stock_reserve(order_id=order_id, lines=[{"sku": "TASK", "quantity": 3}],
                           ttl_seconds=1)
    later = timezone.now() + timedelta(seconds=5)
    monkeypatch.setattr(reservations.timezone, "now", lambda: later)
    # when the beat task runs, then it expires it and the units are free again
    assert expire_reservations.delay().get() == 1
    assert Reservation.objects.get(order_id=order_id).status == "expired"
    assert levels("TASK") == (3, 0, 3)


def test_receive_and_adjust_change_total_with_reason():
    make_item(sku="ADJ", quantity=5)
    services.stock_receive(sku="ADJ", quantity=10)
    item = services.stock_adjust(sku="ADJ", delta=-3, reason="damaged")
    assert (item.total, item.available) == (12, 12)
    assert list(StockMovement.objects.filter(sku="ADJ").order_by("position")
                .values_list("kind", "quantity", "reason")) == [
        ("received", 5, "initial stock"), ("received", 10, ""), ("adjusted", -3, "damaged")]


def test_adjust_below_reserved_is_refused():
    make_item(sku="ADJ2", quantity=5)
    services.stock_reserve(order_id=uuid.uuid4(), lines=[{"sku": "ADJ2", "quantity": 4}])
    before = write_counts()
    with pytest.raises(InsufficientStock) as exc:
        services.stock_adjust(sku="ADJ2", delta=-2, reason="lost")
    assert exc.value.details == {"lines": [{"sku": "ADJ2", "requested": 2, "available": 1}]}
    assert write_counts() == before
    assert levels("ADJ2") == (5, 4, 1)


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"quantity": 0}, "quantity"), ({"quantity": -1}, "quantity"), ({"quantity": "5"}, "quantity"),
])
def test_receive_rejects_bad_quantities(kwargs, field):
    make_item(sku="RCV")
    before = write_counts()
    with pytest.raises(ValidationFailed) as exc:
        services.stock_receive(sku="RCV", **kwargs)
    assert list(exc.value.details) == [field]
    assert write_counts() == before


def test_business_metrics_count_reservations_conflicts_and_expiries(
        django_capture_on_commit_callbacks):
    from commerce.core import metrics

    def value(metric, **labels):
        return (metric.labels(**labels) if labels else metric)._value.get()

    make_item(sku="MET", quantity=1)
    reserves, conflicts = value(metrics.RESERVATIONS, action="reserve"), value(
        metrics.STOCK_CONFLICTS)
    expiries = value(metrics.RESERVATION_EXPIRIES)
    order_id = uuid.uuid4()
    with django_capture_on_commit_callbacks(execute=True):
        services.stock_reserve(order_id=order_id, lines=[{"sku": "MET", "quantity": 1}],
                               ttl_seconds=1)
    with pytest.raises(InsufficientStock):
        services.stock_reserve(order_id=uuid.uuid4(), lines=[{"sku": "MET", "quantity": 1}])
    with django_capture_on_commit_callbacks(execute=True):
        services.reservations_expire_due(now=timezone.now() + timedelta(minutes=1))
    assert value(metrics.RESERVATIONS, action="reserve") == reserves + 1
    assert value(metrics.STOCK_CONFLICTS) == conflicts + 1
    assert value(metrics.RESERVATION_EXPIRIES) == expiries + 1
