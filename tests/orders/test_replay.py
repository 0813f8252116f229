import pytest
from django.core.management import call_command

from orders import lifecycle, services
from orders.models import OrderLine, OrderView
from tests.orders.conftest import ADDRESS, advance, step

# Committed transactions, as in production: a rebuild TRUNCATEs the read models, which
# PostgreSQL refuses inside a transaction with pending deferred-constraint checks.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("no_policies")]


def test_replay_verify_after_mixed_workload_reports_no_difference(place, make_customer, capsys):
    # given orders in every state, edited, refunded, archived
    for status in lifecycle.OrderStatus.values:
        advance(place(who=make_customer()), status)
    edited = place()
    services.order_update(order_id=edited.order_id, expected_version=1,
                          shipping_address={**ADDRESS, "city": "Leeds"}, notes="n")
    archived = advance(place(), "failed")
    step(archived, "archive")
    refunded = advance(place(), "completed")
    services.order_record_refund(order_id=refunded.order_id, payment_id="p", amount="1.00")
    live = (list(OrderView.objects.order_by("pk").values()),
            list(OrderLine.objects.order_by("pk").values()))
    # when replay_events --verify runs
    call_command("replay_events", "--verify", "--projection", "orders")
    # then it reports 0 differences, and a real rebuild gives the same rows
    assert "0 differences" in capsys.readouterr().out
    call_command("replay_events", "--projection", "orders")
    assert (list(OrderView.objects.order_by("pk").values()),
            list(OrderLine.objects.order_by("pk").values())) == live
