"""Per-line reservation commands: split shipments, cancelled shipments, returns."""

import io
import uuid
from decimal import Decimal

import pytest
from django.core.management import call_command

from commerce.core.errors import ValidationFailed
from commerce.eventstore.models import Event
from inventory import services
from inventory.errors import InvalidReservationState
from inventory.selectors import catalog_measures, reservation_get_for_order, stock_drift
from tests.factories import make_item
from tests.inventory.helpers import levels, write_counts

pytestmark = pytest.mark.django_db


@pytest.fixture
def reserved():
    """An order holding 3 × A and 2 × B (of 10 each)."""
    make_item(sku="A", quantity=10)
    make_item(sku="B", quantity=10)
    order_id = uuid.uuid4()
    services.stock_reserve(order_id=order_id, lines=[{"sku": "A", "quantity": 3},
                                                     {"sku": "B", "quantity": 2}])
    services.reservation_confirm(order_id=order_id)
    return order_id


def progress(order_id):
    reservation = reservation_get_for_order(order_id=order_id)
    return reservation.status, [(ln.sku, ln.quantity, ln.fulfilled_quantity,
                                 ln.restocked_quantity) for ln in reservation.lines.all()]


def test_split_fulfilment_moves_stock_per_shipped_quantity(reserved):
    # when a first parcel takes 2 × A
    services.reservation_fulfill_lines(order_id=reserved, lines=[{"sku": "A", "quantity": 2}],
                                       reference="shipment-1")
    # then only those units left: A total 8, still 1 held; B untouched
    assert progress(reserved) == ("partially_fulfilled", [("A", 3, 2, 0), ("B", 2, 0, 0)])
    assert levels("A") == (8, 1, 7)
    assert levels("B") == (10, 2, 8)
    # when the second parcel takes the rest
    services.reservation_fulfill_lines(
        order_id=reserved, lines=[{"sku": "B", "quantity": 2}, {"sku": "A", "quantity": 1}],
        reference="shipment-2")
    # then the reservation is fulfilled and nothing is held any more
    assert progress(reserved) == ("fulfilled", [("A", 3, 3, 0), ("B", 2, 2, 0)])
    assert (levels("A"), levels("B")) == ((7, 0, 7), (8, 0, 8))
    assert stock_drift() == []


def test_a_repeated_reference_is_a_no_op_and_too_many_units_are_refused(reserved):
    services.reservation_fulfill_lines(order_id=reserved, lines=[{"sku": "A", "quantity": 2}],
                                       reference="shipment-1")
    before = write_counts()
    # when the same shipment is fulfilled again, then nothing more moves
    services.reservation_fulfill_lines(order_id=reserved, lines=[{"sku": "A", "quantity": 2}],
                                       reference="shipment-1")
    assert write_counts() == before
    # when another shipment asks for more than is still held, then it is refused whole
    with pytest.raises(InvalidReservationState) as refused:
        services.reservation_fulfill_lines(
            order_id=reserved, lines=[{"sku": "A", "quantity": 2}, {"sku": "B", "quantity": 1}],
            reference="shipment-2")
    assert refused.value.details["lines"] == [{"sku": "A", "requested": 2, "allowed": 1}]
    assert write_counts() == before
    with pytest.raises(ValidationFailed):
        services.reservation_fulfill_lines(order_id=reserved, lines=[], reference="x")


def test_a_cancelled_shipment_puts_its_units_back_on_hold(reserved):
    services.reservation_fulfill_lines(order_id=reserved, lines=[{"sku": "A", "quantity": 2}],
                                       reference="shipment-1")
    # when that shipment is cancelled (label voided)
    services.reservation_unfulfill_lines(order_id=reserved, reference="shipment-1",
                                         reason="label voided")
    # then the units are back in stock and held for the order again
    assert progress(reserved) == ("confirmed", [("A", 3, 0, 0), ("B", 2, 0, 0)])
    assert levels("A") == (10, 3, 7)
    # and a repeat changes nothing; an unknown shipment is refused
    before = write_counts()
    services.reservation_unfulfill_lines(order_id=reserved, reference="shipment-1",
                                         reason="again")
    assert write_counts() == before
    with pytest.raises(InvalidReservationState):
        services.reservation_unfulfill_lines(order_id=reserved, reference="nope", reason="x")


def test_returned_units_are_restocked_per_line(reserved):
    services.reservation_fulfill(order_id=reserved)
    assert levels("A") == (7, 0, 7)
    # when one unit of A comes back
    services.reservation_restock_lines(order_id=reserved, lines=[{"sku": "A", "quantity": 1}],
                                       reference="return-1", reason="return received")
    # then it is sellable again; the reservation stays fulfilled
    assert levels("A") == (8, 0, 8)
    assert progress(reserved) == ("fulfilled", [("A", 3, 3, 1), ("B", 2, 2, 0)])
    # and more than was shipped and not yet back is refused
    with pytest.raises(InvalidReservationState):
        services.reservation_restock_lines(order_id=reserved, lines=[{"sku": "A", "quantity": 3}],
                                           reference="return-2", reason="x")
    # when everything else comes back, then the reservation is restocked
    services.reservation_restock_lines(
        order_id=reserved, lines=[{"sku": "A", "quantity": 2}, {"sku": "B", "quantity": 2}],
        reference="return-2", reason="return received")
    assert progress(reserved)[0] == "restocked"
    assert (levels("A"), levels("B")) == ((10, 0, 10), (10, 0, 10))


def test_restocking_a_partially_fulfilled_reservation_releases_the_rest(reserved):
    # given one parcel of 2 × A shipped, 1 × A and 2 × B still held
    services.reservation_fulfill_lines(order_id=reserved, lines=[{"sku": "A", "quantity": 2}],
                                       reference="shipment-1")
    # when the order is cancelled (the cancellation saga restocks)
    services.reservation_restock(order_id=reserved, reason="order cancelled")
    # then what was held is released and what was shipped is back in stock
    assert progress(reserved) == ("restocked", [("A", 3, 2, 2), ("B", 2, 0, 0)])
    assert (levels("A"), levels("B")) == ((10, 0, 10), (10, 0, 10))
    types = list(Event.objects.filter(aggregate_type="Reservation").order_by("position")
                 .values_list("event_type", flat=True))
    assert types[-2:] == ["ReservationReleased", "ReservationRestocked"]


def test_whole_fulfil_after_a_split_takes_only_the_remainder(reserved):
    services.reservation_fulfill_lines(order_id=reserved, lines=[{"sku": "A", "quantity": 2}],
                                       reference="shipment-1")
    services.reservation_fulfill(order_id=reserved)
    assert progress(reserved) == ("fulfilled", [("A", 3, 3, 0), ("B", 2, 2, 0)])
    assert (levels("A"), levels("B")) == ((7, 0, 7), (8, 0, 8))


def test_weight_and_dimensions_are_catalog_fields():
    # when an item is created with shipping measures, then they are recorded and readable
    make_item(sku="HEAVY", weight_kg="1.25", length_cm="30", width_cm="20.5", height_cm="4")
    make_item(sku="PLAIN")
    measures = catalog_measures(skus=["HEAVY", "PLAIN", "NOPE"])
    assert set(measures) == {"HEAVY", "PLAIN"}
    assert (measures["HEAVY"].weight_kg, measures["HEAVY"].width_cm) == (
        Decimal("1.250"), Decimal("20.5"))
    assert measures["PLAIN"].weight_kg is None
    # when only the weight changes, then only it is recorded
    services.item_update(sku="HEAVY", weight_kg="2.000", length_cm="30.0")
    event = Event.objects.filter(event_type="ProductUpdated").latest("position")
    assert event.event_data == {"sku": "HEAVY", "weight_kg": "2.000"}
    # and nonsense is refused with the field named
    with pytest.raises(ValidationFailed) as bad:
        services.item_update(sku="HEAVY", weight_kg="-1", height_cm="1.25")
    assert set(bad.value.details) == {"weight_kg", "height_cm"}


@pytest.mark.django_db(transaction=True)
def test_replay_and_verify_stay_exact_with_per_line_progress():
    # given reservations in every per-line state
    make_item(sku="A", quantity=10)
    make_item(sku="B", quantity=10)
    orders = [uuid.uuid4() for _ in range(3)]
    for order_id in orders:
        services.stock_reserve(order_id=order_id, lines=[{"sku": "A", "quantity": 2},
                                                         {"sku": "B", "quantity": 1}])
    services.reservation_fulfill_lines(order_id=orders[0], lines=[{"sku": "A", "quantity": 1}],
                                       reference="s1")
    services.reservation_fulfill_lines(order_id=orders[1], lines=[{"sku": "A", "quantity": 2}],
                                       reference="s2")
    services.reservation_unfulfill_lines(order_id=orders[1], reference="s2", reason="void")
    services.reservation_fulfill(order_id=orders[2])
    services.reservation_restock_lines(order_id=orders[2], lines=[{"sku": "B", "quantity": 1}],
                                       reference="r1", reason="returned")
    # then the counters agree with the facts and a rebuild changes nothing
    assert stock_drift() == []
    out = io.StringIO()
    call_command("replay_events", "--verify", "--projection", "inventory", stdout=out)
    assert "0 differences" in out.getvalue()
