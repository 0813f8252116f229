import time
import uuid
from decimal import Decimal

import pytest

from cart import services, store
from cart.refs import cart_ref_for_token, cart_ref_for_user
from cart.selectors import cart_get
from commerce.core.errors import NotFound, ValidationFailed
from commerce.core.redis import redis_client
from inventory.services import product_update
from tests.cart.conftest import cart_metric, stored, stream_events

pytestmark = pytest.mark.django_db


def lines_of(cart) -> dict[str, int]:
    return {line.sku: line.quantity for line in cart_get(cart=cart).lines}


def test_add_creates_line_with_catalog_price(cart, item):
    # given a catalog item at 12.50
    sku = item(price="12.50").sku
    # when the customer adds 2
    after = services.cart_item_add(cart=cart, sku=sku, quantity=2)
    # then the line holds 2 at the catalog price, subtotal 25.00, no warnings
    view = cart_get(cart=cart)
    assert after == 2
    assert [(ln.sku, ln.quantity, ln.unit_price, ln.line_total) for ln in view.lines] == [
        (sku, 2, Decimal("12.50"), Decimal("25.00"))]
    assert view.subtotal == Decimal("25.00")
    assert view.currency == "USD"
    assert view.warnings == []


def test_adding_same_sku_twice_adds_quantities(cart, item):
    sku = item().sku
    services.cart_item_add(cart=cart, sku=sku, quantity=2)
    after = services.cart_item_add(cart=cart, sku=sku, quantity=3)
    assert after == 5
    assert lines_of(cart) == {sku: 5}
    assert stored(cart.cart_id)["n"] == "1"


def test_set_quantity_and_zero_removes(cart, item):
    a, b = item().sku, item().sku
    services.cart_item_add(cart=cart, sku=a, quantity=1)
    services.cart_item_add(cart=cart, sku=b, quantity=1)
    services.cart_item_set_quantity(cart=cart, sku=a, quantity=7)
    assert lines_of(cart) == {a: 7, b: 1}
    services.cart_item_set_quantity(cart=cart, sku=a, quantity=0)
    assert lines_of(cart) == {b: 1}
    assert stored(cart.cart_id)["n"] == "1"


def test_remove_line_and_missing_line_is_404(cart, item):
    a = item().sku
    services.cart_item_add(cart=cart, sku=a, quantity=1)
    services.cart_item_remove(cart=cart, sku=a)
    assert lines_of(cart) == {}
    before = stored(cart.cart_id)
    with pytest.raises(NotFound):
        services.cart_item_remove(cart=cart, sku=a)
    assert stored(cart.cart_id) == before


def test_clear_removes_every_line_and_stops_tracking_expiry(cart, item):
    services.cart_item_add(cart=cart, sku=item().sku, quantity=1)
    services.cart_item_add(cart=cart, sku=item().sku, quantity=2)
    assert redis_client().zscore(store.expiries_key(), cart.cart_id) is not None
    assert services.cart_clear(cart=cart) == 2
    assert lines_of(cart) == {}
    assert redis_client().zscore(store.expiries_key(), cart.cart_id) is None


def test_line_limit_refuses_and_changes_nothing(cart, item, settings):
    settings.CART_MAX_LINES = 2
    services.cart_item_add(cart=cart, sku=item().sku, quantity=1)
    services.cart_item_add(cart=cart, sku=item().sku, quantity=1)
    before = stored(cart.cart_id)
    with pytest.raises(services.CartLimitExceeded) as err:
        services.cart_item_add(cart=cart, sku=item().sku, quantity=1)
    assert err.value.code == "cart_limit_exceeded"
    assert err.value.http_status == 400
    assert stored(cart.cart_id) == before


def test_quantity_limit_refuses_and_changes_nothing(cart, item, settings):
    settings.CART_MAX_QUANTITY_PER_LINE = 5
    sku = item().sku
    services.cart_item_add(cart=cart, sku=sku, quantity=4)
    before = stored(cart.cart_id)
    with pytest.raises(services.CartLimitExceeded) as err:
        services.cart_item_add(cart=cart, sku=sku, quantity=2)
    assert err.value.details["in_cart"] == 4
    with pytest.raises(services.CartLimitExceeded):
        services.cart_item_set_quantity(cart=cart, sku=sku, quantity=6)
    assert stored(cart.cart_id) == before


def test_unknown_sku_is_refused_and_nothing_is_written(cart):
    with pytest.raises(ValidationFailed) as err:
        services.cart_item_add(cart=cart, sku="NOPE-1", quantity=1)
    assert err.value.code == "unknown_sku"
    assert stored(cart.cart_id) == {}
    assert stream_events() == []


def test_inactive_sku_is_refused(cart, item):
    sku = item(active=False).sku
    with pytest.raises(ValidationFailed) as err:
        services.cart_item_add(cart=cart, sku=sku, quantity=1)
    assert err.value.code == "inactive_sku"
    assert stored(cart.cart_id) == {}


def test_price_change_shows_warning_and_current_price(cart, item):
    # given a line added at 10.00
    sku = item(price="10.00").sku
    services.cart_item_add(cart=cart, sku=sku, quantity=3)
    # when the catalog price becomes 12.00
    product_update(sku=sku, price="12.00")
    # then the cart shows the current price and a price_changed warning
    view = cart_get(cart=cart)
    assert view.lines[0].unit_price == Decimal("12.00")
    assert view.lines[0].price_when_added == Decimal("10.00")
    assert view.subtotal == Decimal("36.00")
    assert [(w["sku"], w["code"], w["old_price"], w["new_price"]) for w in view.warnings] == [
        (sku, "price_changed", "10.00", "12.00")]


def test_deactivated_item_shows_unavailable_warning_and_leaves_subtotal(cart, item):
    a, b = item(price="5.00").sku, item(price="7.00").sku
    services.cart_item_add(cart=cart, sku=a, quantity=1)
    services.cart_item_add(cart=cart, sku=b, quantity=1)
    product_update(sku=a, active=False)
    view = cart_get(cart=cart)
    assert view.subtotal == Decimal("7.00")
    assert [(w["sku"], w["code"]) for w in view.warnings] == [(a, "unavailable")]
    line_a = next(ln for ln in view.lines if ln.sku == a)
    assert (line_a.active, line_a.unit_price, line_a.line_total) == (False, None, None)


def test_more_than_available_shows_stock_warning(cart, item):
    sku = item(quantity=2).sku
    services.cart_item_add(cart=cart, sku=sku, quantity=3)
    assert [(w["code"], w["available"]) for w in cart_get(cart=cart).warnings] == [
        ("insufficient_stock", 2)]


def test_writes_and_reads_slide_the_expiry(cart, item, settings):
    settings.CART_TTL_DAYS = 2
    services.cart_item_add(cart=cart, sku=item().sku, quantity=1)
    key = store.cart_key(cart.cart_id)
    assert 2 * 86400 - 5 <= redis_client().ttl(key) <= 2 * 86400
    redis_client().expire(key, 60)
    cart_get(cart=cart)
    assert redis_client().ttl(key) > 86400
    score = redis_client().zscore(store.expiries_key(), cart.cart_id)
    assert abs(score - (time.time() + 2 * 86400)) < 5


def test_every_change_gets_a_new_checkout_id(cart, item):
    sku = item().sku
    services.cart_item_add(cart=cart, sku=sku, quantity=1)
    first = stored(cart.cart_id)["checkout_id"]
    services.cart_item_set_quantity(cart=cart, sku=sku, quantity=2)
    second = stored(cart.cart_id)["checkout_id"]
    cart_get(cart=cart)  # reading is not a change
    assert stored(cart.cart_id)["checkout_id"] == second
    assert len({first, second}) == 2
    uuid.UUID(first), uuid.UUID(second)


def test_events_are_counted_and_streamed(cart, item):
    before = {e: cart_metric(e) for e in ("created", "item_added", "item_removed")}
    sku = item().sku
    services.cart_item_add(cart=cart, sku=sku, quantity=2)
    services.cart_item_remove(cart=cart, sku=sku)
    assert [(e["event"], e["cart"], e.get("sku")) for e in stream_events()] == [
        ("created", cart.cart_id, None), ("item_added", cart.cart_id, sku),
        ("item_removed", cart.cart_id, sku)]
    assert {e: cart_metric(e) - before[e] for e in before} == {
        "created": 1, "item_added": 1, "item_removed": 1}


def test_guest_cart_create_and_unknown_token(db, item):
    guest = services.cart_guest_create()
    assert len(guest.token) >= 43
    # Redis stores only a hash of the token
    assert guest.token not in guest.cart_id
    assert redis_client().keys(f"*{guest.token}*") == []
    services.cart_item_add(cart=cart_ref_for_token(guest.token), sku=item().sku, quantity=1)
    with pytest.raises(NotFound):
        cart_get(cart=cart_ref_for_token("x" * 43))
    with pytest.raises(NotFound):
        services.cart_item_add(cart=cart_ref_for_token("y" * 43), sku=item().sku, quantity=1)
    assert redis_client().exists(store.cart_key(cart_ref_for_token("y" * 43).cart_id)) == 0


def test_merge_adds_quantities_caps_and_deletes_guest(customer, item, settings):
    settings.CART_MAX_QUANTITY_PER_LINE = 10
    a, b = item().sku, item().sku
    mine = cart_ref_for_user(customer)
    services.cart_item_add(cart=mine, sku=a, quantity=6)
    guest = services.cart_guest_create()
    gref = cart_ref_for_token(guest.token)
    services.cart_item_add(cart=gref, sku=a, quantity=7)
    services.cart_item_add(cart=gref, sku=b, quantity=2)
    result = services.cart_merge(user=customer, guest_token=guest.token)
    assert (sorted(result.merged), result.dropped) == (sorted([a, b]), [])
    assert lines_of(mine) == {a: 10, b: 2}
    assert stored(gref.cart_id) == {}
    assert redis_client().zscore(store.expiries_key(), gref.cart_id) is None
    # a retry answers the same report and changes nothing
    again = services.cart_merge(user=customer, guest_token=guest.token)
    assert (sorted(again.merged), again.dropped) == (sorted([a, b]), [])
    assert lines_of(mine) == {a: 10, b: 2}


def test_merge_drops_lines_past_the_line_limit(customer, item, settings):
    settings.CART_MAX_LINES = 2
    mine = cart_ref_for_user(customer)
    a, b, c = item().sku, item().sku, item().sku
    services.cart_item_add(cart=mine, sku=a, quantity=1)
    guest = services.cart_guest_create()
    gref = cart_ref_for_token(guest.token)
    services.cart_item_add(cart=gref, sku=b, quantity=1)
    services.cart_item_add(cart=gref, sku=c, quantity=1)
    result = services.cart_merge(user=customer, guest_token=guest.token)
    assert len(result.merged) == 1 and len(result.dropped) == 1
    assert set(lines_of(mine)) == {a, *result.merged}
    assert stored(mine.cart_id)["n"] == "2"


def test_abandoned_carts_are_recorded_once(make_customer, item):
    # given one cart with items and one emptied cart, both expired
    full, empty = cart_ref_for_user(make_customer()), cart_ref_for_user(make_customer())
    sku = item().sku
    services.cart_item_add(cart=full, sku=sku, quantity=1)
    services.cart_item_add(cart=empty, sku=sku, quantity=1)
    services.cart_item_remove(cart=empty, sku=sku)
    for ref in (full, empty):
        redis_client().pexpire(store.cart_key(ref.cart_id), 1)
    time.sleep(0.01)
    before = cart_metric("abandoned")
    later = time.time() + 31 * 86400
    # when the beat task runs (twice)
    assert services.cart_record_abandoned(now=later) == 1
    assert services.cart_record_abandoned(now=later) == 0
    # then only the cart that still had items counts, once
    assert cart_metric("abandoned") - before == 1
    assert [e["cart"] for e in stream_events() if e["event"] == "abandoned"] == [full.cart_id]


def test_live_carts_are_not_abandoned(cart, item):
    services.cart_item_add(cart=cart, sku=item().sku, quantity=1)
    assert services.cart_record_abandoned(now=time.time() + 31 * 86400) == 0
    # its expiry score was refreshed from the real TTL
    assert redis_client().zscore(store.expiries_key(), cart.cart_id) is not None


def test_record_abandoned_task_runs(db):
    from cart.tasks import record_abandoned

    assert record_abandoned.delay().result == 0
