"""Concurrent cart writes with real threads against the real Redis and PostgreSQL."""

import threading

import pytest
from django.db import connection

from cart import services
from cart.refs import cart_ref_for_user
from cart.selectors import cart_get
from tests.cart.conftest import stored

pytestmark = pytest.mark.django_db(transaction=True)


def run_together(*funcs):
    """Start every function at the same moment (barrier) in its own thread; return the
    results / exceptions in order."""
    barrier = threading.Barrier(len(funcs))
    results: list = [None] * len(funcs)

    def runner(i, fn):
        try:
            barrier.wait()
            results[i] = fn()
        except Exception as exc:  # noqa: BLE001 - reported to the test
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i, fn)) for i, fn in enumerate(funcs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return results


def test_concurrent_adds_of_different_skus_keep_every_line(customer, item):
    # given one cart and 8 skus
    cart = cart_ref_for_user(customer)
    skus = [item().sku for _ in range(8)]
    # when 8 requests add a different sku each at the same moment
    results = run_together(*[
        (lambda s=s: services.cart_item_add(cart=cart, sku=s, quantity=1)) for s in skus])
    # then every line is there and the line counter agrees
    assert results == [1] * 8
    assert {ln.sku: ln.quantity for ln in cart_get(cart=cart).lines} == dict.fromkeys(skus, 1)
    assert stored(cart.cart_id)["n"] == "8"


def test_concurrent_adds_of_one_sku_sum_and_respect_the_cap(customer, item, settings):
    settings.CART_MAX_QUANTITY_PER_LINE = 5
    cart = cart_ref_for_user(customer)
    sku = item().sku
    # when 8 requests add 1 unit of the same sku at once with a cap of 5
    results = run_together(*[
        (lambda: services.cart_item_add(cart=cart, sku=sku, quantity=1)) for _ in range(8)])
    # then exactly 5 succeed and the line holds exactly 5
    assert sorted(r for r in results if isinstance(r, int)) == [1, 2, 3, 4, 5]
    assert sum(isinstance(r, services.CartLimitExceeded) for r in results) == 3
    assert cart_get(cart=cart).lines[0].quantity == 5
