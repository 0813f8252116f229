"""inventory_verify checks that stock is held exactly while an order needs it (issue 11,
item 4): a reservation left active for an order that ended, or a confirmed order whose
units were freed, is reported."""

import io

import pytest
from django.core.management import CommandError, call_command

from inventory import services as inventory_services
from tests.orders.conftest import advance

pytestmark = pytest.mark.django_db


def verify() -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("inventory_verify", stdout=out)
    except CommandError as exc:
        return exc.returncode, out.getvalue()
    return 0, out.getvalue()


def confirmed(order):
    """Confirmed as the fulfilment saga does it: the reservation is confirmed with payment."""
    order = advance(order, "paid")
    inventory_services.reservation_confirm(order_id=order.order_id)
    return advance_from_paid(order)


def advance_from_paid(order):
    from orders import services

    services.order_mark_payment_captured(order_id=order.order_id, payment_id="pay_1",
                                         amount=order.total_amount)
    return services.order_confirm(order_id=order.order_id)


def test_orders_in_every_state_with_their_stock_verify_clean(place):
    # given orders along the lifecycle, their stock moved by the same services as the sagas
    for status in ("placed", "reserved", "paid", "failed"):
        advance(place(), status)
    confirmed(place())
    from orders import services

    services.order_ship(order_id=confirmed(place()).order_id, carrier="DHL")
    # then nothing disagrees
    code, out = verify()
    assert (code, "0 reservation mismatches" in out) == (0, True), out


def test_a_confirmed_order_whose_stock_was_freed_is_reported(place):
    # given a confirmed order whose reservation was released behind its back
    order = confirmed(place())
    inventory_services.reservation_release(order_id=order.order_id, reason="by hand",
                                           order_ending=True)
    # then verify names it and fails
    code, out = verify()
    assert code == 1
    assert (f"MISMATCH order {order.order_id}: a confirmed order without confirmed stock "
            "(reservation released, order confirmed)") in out
    assert "1 reservation mismatches" in out


def test_stock_still_held_for_an_order_that_ended_is_reported(place):
    # given a failed order whose reservation was never released
    order = advance(place(), "reserved")
    from orders import services

    services.order_fail(order_id=order.order_id, reason="x", code="payment_declined")
    # then verify names it
    code, out = verify()
    assert code == 1
    assert (f"MISMATCH order {order.order_id}: holds stock for an order that is failed "
            "(reservation reserved, order failed)") in out


def test_stock_held_for_no_order_is_reported(items):
    import uuid

    ghost = uuid.uuid4()
    inventory_services.stock_reserve(order_id=ghost, lines=[{"sku": items[0].sku,
                                                             "quantity": 1}])
    code, out = verify()
    assert code == 1
    assert f"MISMATCH order {ghost}: holds stock for an unknown order" in out
