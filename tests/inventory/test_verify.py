import io
import uuid

import pytest
from django.core.management import CommandError, call_command

from inventory import services
from inventory.models import InventoryItem
from tests.factories import make_item
from tests.inventory.helpers import levels

# Committed transactions, as in production: a rebuild TRUNCATEs the tables, which
# PostgreSQL refuses while the same transaction still has deferred FK checks pending.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _no_orders(monkeypatch):
    """These reservations are inventory's alone (no orders behind them); the order check
    is tested in tests/orders/test_stock_check.py."""
    from inventory import owners

    monkeypatch.setattr(owners, "_owners", None)


def _history():
    """A bit of everything: receipts, adjustments, reservations in every state."""
    make_item(sku="V-1", quantity=20)
    make_item(sku="V-2", quantity=5, price="2.50")
    services.stock_receive(sku="V-2", quantity=5, reason="delivery")
    services.stock_adjust(sku="V-1", delta=-1, reason="damaged")
    services.product_update(sku="V-2", price="3.00")
    services.item_update(sku="V-1", reorder_point=4)
    orders = [uuid.uuid4() for _ in range(5)]
    for order_id in orders:
        services.stock_reserve(order_id=order_id, lines=[
            {"sku": "V-1", "quantity": 2}, {"sku": "V-2", "quantity": 1}])
    services.reservation_confirm(order_id=orders[0])
    services.reservation_fulfill(order_id=orders[1])
    services.reservation_release(order_id=orders[2], reason="payment failed")
    services.reservation_fulfill(order_id=orders[3])
    services.reservation_restock(order_id=orders[3], reason="returned")
    return orders


def test_replay_rebuilds_exactly_the_live_inventory_tables():
    # given a history of stock movements
    _history()
    assert levels("V-1") == (17, 4, 13)
    assert levels("V-2") == (9, 2, 7)
    # when the read models are rebuilt from the events and compared, then nothing differs
    out = io.StringIO()
    call_command("replay_events", "--verify", "--projection", "inventory", stdout=out)
    assert "0 differences" in out.getvalue()
    # and a real rebuild reproduces the same levels
    call_command("replay_events", "--projection", "inventory", stdout=io.StringIO())
    assert levels("V-1") == (17, 4, 13)
    assert levels("V-2") == (9, 2, 7)


def test_inventory_verify_finds_planted_drift_and_fix_repairs_it():
    # given a consistent history, then a drift planted behind the services' back
    _history()
    out = io.StringIO()
    call_command("inventory_verify", stdout=out)
    assert "0 drifts" in out.getvalue()
    InventoryItem.objects.filter(sku="V-1").update(reserved=1)
    # when verifying, then the drift is listed and the command fails
    out = io.StringIO()
    with pytest.raises(CommandError) as exc:
        call_command("inventory_verify", stdout=out)
    assert exc.value.returncode == 1
    assert "DRIFT V-1 reserved: recorded=1 expected=4" in out.getvalue()
    assert levels("V-1") == (17, 1, 16)  # verifying alone changes nothing
    # when fixing, then the counters agree with the reservations again
    out = io.StringIO()
    call_command("inventory_verify", "--fix", stdout=out)
    assert "1 drifts fixed" in out.getvalue()
    assert levels("V-1") == (17, 4, 13)
    out = io.StringIO()
    call_command("inventory_verify", stdout=out)
    assert "0 drifts" in out.getvalue()
    # and the repaired table is again what the events say
    call_command("replay_events", "--verify", "--projection", "inventory", stdout=io.StringIO())


def test_inventory_verify_detects_total_drift_against_the_ledger():
    make_item(sku="T-1", quantity=7)
    InventoryItem.objects.filter(sku="T-1").update(total=9)
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("inventory_verify", stdout=out)
    assert "DRIFT T-1 total: recorded=9 expected=7" in out.getvalue()
    call_command("inventory_verify", "--fix", stdout=io.StringIO())
    assert levels("T-1") == (7, 0, 7)
