"""LowStockReached: recorded once when a reservation or an adjustment takes `available` from
above the item's low-stock threshold to at or below it; replays reproduce the read models."""

import uuid

import pytest
from django.core.management import call_command

from commerce.eventstore.models import Event
from inventory.models import InventoryItem
from inventory.services import reservation_release, stock_adjust, stock_reserve
from tests.factories import make_item

pytestmark = pytest.mark.django_db


def crossings(item) -> list[dict]:
    return list(Event.objects.filter(aggregate_id=item.id, event_type="LowStockReached")
                .order_by("version").values_list("event_data", flat=True))


def test_a_reservation_that_crosses_the_threshold_records_it_once():
    item = make_item(quantity=10, low_stock_threshold=5)
    stock_reserve(order_id=uuid.uuid4(), lines=[{"sku": item.sku, "quantity": 4}])  # 6 left
    assert crossings(item) == []
    stock_reserve(order_id=uuid.uuid4(), lines=[{"sku": item.sku, "quantity": 2}])  # 4 left
    assert crossings(item) == [{"sku": item.sku, "name": item.name, "available": 4,
                                "low_stock_threshold": 5}]
    stock_reserve(order_id=uuid.uuid4(), lines=[{"sku": item.sku, "quantity": 1}])  # still low
    assert len(crossings(item)) == 1
    # the item's stream version moved with it (the next command appends after it)
    row = InventoryItem.objects.get(pk=item.id)
    assert row.version == Event.objects.filter(aggregate_id=item.id).count()


def test_stock_going_back_up_and_down_again_crosses_again():
    item = make_item(quantity=6, low_stock_threshold=5)
    order_id = uuid.uuid4()
    stock_reserve(order_id=order_id, lines=[{"sku": item.sku, "quantity": 2}])   # 4
    reservation_release(order_id=order_id, reason="payment failed")              # 6
    stock_adjust(sku=item.sku, delta=-1, reason="damaged")                       # 5
    assert [c["available"] for c in crossings(item)] == [4, 5]


@pytest.mark.django_db(transaction=True)  # a rebuild TRUNCATEs: committed data, as live
def test_replay_reproduces_the_read_models_with_crossings(capsys):
    item = make_item(quantity=7, low_stock_threshold=5)
    stock_adjust(sku=item.sku, delta=-3, reason="lost")
    stock_reserve(order_id=uuid.uuid4(), lines=[{"sku": item.sku, "quantity": 4}])
    assert len(crossings(item)) == 1
    call_command("replay_events", "--verify", "--projection", "inventory")
    assert "0 differences" in capsys.readouterr().out
