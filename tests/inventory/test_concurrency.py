"""Real threads against the real PostgreSQL: each thread has its own connection and
transaction, exactly as concurrent requests or workers would."""

import uuid

import pytest

from inventory import services
from inventory.errors import InsufficientStock
from inventory.models import Reservation
from tests.concurrency import run_concurrently as run_threads
from tests.factories import make_item
from tests.inventory.helpers import levels

pytestmark = pytest.mark.django_db(transaction=True)

def run_concurrently(fns):
    """Outcomes in order: "ok", "insufficient", or the unexpected exception (a deadlock or
    constraint error would land here)."""
    return ["ok" if not isinstance(r, Exception)
            else "insufficient" if isinstance(r, InsufficientStock) else r
            for r in run_threads(fns)]


def test_fifty_buyers_for_the_last_ten_units_exactly_ten_succeed():
    # given a sku with 10 units left
    make_item(sku="HOT", quantity=10)

    # when 50 buyers try to reserve one unit each at the same moment
    def buy():
        services.stock_reserve(order_id=uuid.uuid4(), lines=[{"sku": "HOT", "quantity": 1}])

    outcomes = run_concurrently([buy] * 50)

    # then exactly 10 succeed and the other 40 are told there is not enough stock
    assert outcomes.count("ok") == 10
    assert outcomes.count("insufficient") == 40
    assert levels("HOT") == (10, 10, 0)
    assert Reservation.objects.count() == 10


def test_opposite_order_multi_line_orders_never_deadlock_or_oversell():
    # given two skus with one unit each
    make_item(sku="LEFT", quantity=1)
    make_item(sku="RIGHT", quantity=1)
    for _ in range(15):
        # when two orders take both skus, listing them in opposite order, concurrently
        a, b = uuid.uuid4(), uuid.uuid4()
        outcomes = run_concurrently([
            lambda a=a: services.stock_reserve(order_id=a, lines=[
                {"sku": "LEFT", "quantity": 1}, {"sku": "RIGHT", "quantity": 1}]),
            lambda b=b: services.stock_reserve(order_id=b, lines=[
                {"sku": "RIGHT", "quantity": 1}, {"sku": "LEFT", "quantity": 1}]),
        ])
        # then exactly one wins, the other is refused; no deadlock, nothing oversold
        assert sorted(map(str, outcomes)) == ["insufficient", "ok"]
        assert levels("LEFT") == (1, 1, 0)
        assert levels("RIGHT") == (1, 1, 0)
        winner = a if outcomes[0] == "ok" else b
        services.reservation_release(order_id=winner, reason="next round")
    assert levels("LEFT") == (1, 0, 1)
    assert levels("RIGHT") == (1, 0, 1)


@pytest.mark.parametrize("stock", [10, 3])
def test_concurrent_reserves_for_one_order_hold_stock_once(stock):
    # given stock (plenty, or exactly what the order needs) and one order
    make_item(sku="ONCE", quantity=stock)
    order_id = uuid.uuid4()

    # when its reservation is requested five times at once (retried message, double click)
    def reserve():
        services.stock_reserve(order_id=order_id, lines=[{"sku": "ONCE", "quantity": 3}])

    outcomes = run_concurrently([reserve] * 5)

    # then every call succeeds with the same reservation and the stock is held once
    assert outcomes == ["ok"] * 5
    assert Reservation.objects.filter(order_id=order_id).count() == 1
    assert levels("ONCE") == (stock, 3, stock - 3)


def test_release_racing_expiry_and_reserves_keeps_counters_exact():
    # given a sku with reservations that are overdue
    from datetime import timedelta

    from django.utils import timezone

    make_item(sku="RACE", quantity=6)
    orders = [uuid.uuid4() for _ in range(3)]
    for order_id in orders:
        services.stock_reserve(order_id=order_id, lines=[{"sku": "RACE", "quantity": 2}],
                               ttl_seconds=1)
    later = timezone.now() + timedelta(minutes=1)

    # when the expiry sweep, explicit releases and new buyers all run at once
    fns = [lambda: services.reservations_expire_due(now=later)]
    fns += [lambda o=o: services.reservation_release(order_id=o, reason="cancel")
            for o in orders]
    fns += [lambda: services.stock_reserve(order_id=uuid.uuid4(),
                                           lines=[{"sku": "RACE", "quantity": 2}])] * 4
    outcomes = run_concurrently(fns)

    # then nothing failed unexpectedly, and what is reserved is exactly the winners' units
    assert all(o in ("ok", "insufficient") for o in outcomes), outcomes
    winners = outcomes[4:].count("ok")
    assert winners == Reservation.objects.filter(status="reserved").count()
    assert levels("RACE") == (6, 2 * winners, 6 - 2 * winners)
    assert set(Reservation.objects.filter(order_id__in=orders)
               .values_list("status", flat=True)) <= {"released", "expired"}
