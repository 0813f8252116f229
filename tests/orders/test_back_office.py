"""Back-office fixes: every admin action writes a LogEntry, refunds from the order page
(full or partial), event data as JSON with actors as emails, declined payment attempts with
their customer, compact ids in lists."""

import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client

from commerce.accounts import roles
from commerce.eventstore.models import Event
from payments.models import Payment
from tests.factories import make_item
from tests.orders.conftest import advance

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/orders/orderview/"


@pytest.fixture
def support_user(make_staff):
    return make_staff(roles.SUPPORT)


@pytest.fixture
def support(support_user):
    client = Client()
    client.force_login(support_user)
    return client


def log_messages(obj_id) -> list[str]:
    return list(LogEntry.objects.filter(object_id=str(obj_id)).order_by("action_time")
                .values_list("change_message", flat=True))


def test_transitions_write_log_entries(support, support_user, place, no_policies):
    order = advance(place(), "confirmed")
    support.post(f"{CHANGELIST}{order.order_id}/transition/ship/",
                 {"carrier": "UPS", "tracking_number": "1Z9"})
    support.post(CHANGELIST, {"action": "bulk_deliver", "_selected_action": [order.order_id]})
    assert log_messages(order.order_id) == ["Shipped with UPS 1Z9", "Mark delivered"]
    assert LogEntry.objects.filter(user=support_user).count() == 2
    history = support.get(f"{CHANGELIST}{order.order_id}/history/")
    assert "Shipped with UPS 1Z9" in history.text


def test_refund_from_the_order_page_partial_and_once_per_form(support, place, no_policies):
    order = advance(place(), "delivered")  # 27.50 captured
    page = support.get(f"{CHANGELIST}{order.order_id}/change/").text
    assert 'name="amount" value="27.50"' in page  # full refund by default
    refund_id = page.split('name="refund_id" value="')[1].split('"')[0]
    form = {"amount": "5.00", "reason": "scratched", "refund_id": refund_id}
    url = f"{CHANGELIST}{order.order_id}/transition/request_refund/"
    support.post(url, form)
    support.post(url, form)  # the same form submitted twice
    requested = Event.objects.filter(aggregate_id=order.order_id, event_type="RefundRequested")
    assert [(e.event_data["amount"], e.event_data["reason"]) for e in requested] == [
        ("5.00", "scratched")]
    assert log_messages(order.order_id) == ["Refund of 5.00 requested: scratched"] * 2
    # beyond what is left: refused with a message, nothing recorded
    r = support.post(url, {"amount": "30.00", "reason": "x", "refund_id": ""}, follow=True)
    assert "Refund refused" in r.text
    assert requested.count() == 1


def test_event_history_is_formatted_json_with_actor_emails(support, support_user, place,
                                                           no_policies):
    order = advance(place(), "confirmed")
    support.post(f"{CHANGELIST}{order.order_id}/transition/ship/",
                 {"carrier": "UPS", "tracking_number": "1Z9"})
    page = support.get(f"{CHANGELIST}{order.order_id}/change/").text
    assert "&quot;carrier&quot;: &quot;UPS&quot;" in page  # JSON, not a Python dict
    assert "{&#x27;" not in page
    history = page.split('class="event-history"')[1]
    assert f"<td>{support_user.email}</td>" in history
    assert f"user:{support_user.id}" not in page


def test_lists_show_compact_ids(support, place, no_policies):
    order = place()
    page = support.get(CHANGELIST).text
    assert f'title="{order.order_id}">{str(order.order_id)[:8]}</span>' in page


def test_declined_attempts_are_listed_with_the_customer(make_staff, customer, place,
                                                        django_capture_on_commit_callbacks):
    # given an order whose card the processor declined (the saga records the attempt)
    with django_capture_on_commit_callbacks(execute=True):
        declined = place(payment_method="pm_card_chargeDeclined")
    [payment] = Payment.objects.filter(order_id=declined.order_id)
    assert payment.status == "declined"
    admin_user = make_staff(roles.ADMIN)
    admin_user.is_superuser = True  # model permissions for the roles come with issue 11
    admin_user.save()
    client = Client()
    client.force_login(admin_user)
    # when staff list the declined payments
    page = client.get("/admin/payments/payment/", {"status__exact": "declined"}).text
    # then the attempt is there with its customer, under a compact id
    assert customer.email in page
    assert f'title="{payment.id}">{str(payment.id)[:8]}</span>' in page


def test_receiving_stock_writes_a_log_entry(make_staff):
    staff = make_staff(roles.INVENTORY)
    staff.is_superuser = True  # model permissions for the roles come with issue 11
    staff.save()
    client = Client()
    client.force_login(staff)
    item = make_item(quantity=1)
    client.post("/admin/inventory/inventoryitem/", {
        "action": "receive_stock", "_selected_action": [item.pk], "apply": "1",
        "quantity": 7, "reason": "delivery 42"})
    assert log_messages(item.pk) == ["Received 7 units. delivery 42"]


def test_admin_refund_names_the_staff_member(support, support_user, place, no_policies):
    order = advance(place(), "delivered")
    support.post(f"{CHANGELIST}{order.order_id}/transition/request_refund/",
                 {"amount": "1.00", "reason": "r", "refund_id": ""})
    event = Event.objects.get(aggregate_id=order.order_id, event_type="RefundRequested")
    assert event.actor == f"user:{support_user.id}"
