"""Customer preferences (API and effect on what is sent) and the unsubscribe link."""

import re

import pytest
from django.core import signing

from notifications.models import NotificationPreference
from orders import services as order_services
from simulators import sms as sms_sim
from tests.factories import make_item
from tests.notifications.conftest import deliveries, publish
from tests.sagas.helpers import place

pytestmark = pytest.mark.django_db

URL = "/api/v1/me/notification-preferences/"
PHONE = "+14155550123"


def test_defaults_are_email_for_every_customer_message(customer_api):
    response = customer_api.get(URL)
    assert response.status_code == 200
    body = response.json()
    assert (body["language"], body["phone_number"], body["push_token"]) == ("", "", "")
    assert body["channels"] == {
        "order_confirmed": ["email"], "order_failed": ["email"], "order_cancelled": ["email"],
        "order_refunded": ["email"], "order_shipped": ["email"], "order_delivered": ["email"],
        "return_approved": ["email"]}
    assert {k["kind"]: k["transactional"] for k in body["kinds"]}["order_shipped"] is False
    assert NotificationPreference.objects.count() == 0  # reading writes nothing


def test_patch_changes_language_number_and_channels(customer, customer_api):
    response = customer_api.patch(URL, {
        "language": "es", "phone_number": PHONE,
        "channels": {"order_shipped": ["sms", "email"], "order_delivered": []}},
        format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["language"], body["phone_number"]) == ("es", PHONE)
    assert body["channels"]["order_shipped"] == ["sms", "email"]
    assert body["channels"]["order_delivered"] == []  # not transactional: may be silenced
    assert body["channels"]["order_confirmed"] == ["email"]
    assert customer_api.get(URL).json() == body


@pytest.mark.parametrize("patch,field", [
    ({"channels": {"order_confirmed": []}}, "channels"),        # transactional: keep one
    ({"channels": {"order_shipped": ["fax"]}}, "channels"),     # no such channel
    ({"channels": {"low_stock": ["email"]}}, "channels"),       # a staff message
    ({"channels": {"order_shipped": ["sms"]}}, "phone_number"),  # SMS needs a number
    ({"channels": {"order_shipped": ["push"]}}, "push_token"),   # push needs a token
    ({"phone_number": "0612345678"}, "phone_number"),           # not E.164
    ({"language": "fr"}, "language"),
])
def test_invalid_preferences_are_refused_and_nothing_changes(customer_api, patch, field):
    before = customer_api.get(URL).json()
    response = customer_api.patch(URL, patch, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert field in response.json()["error"]["details"]
    assert customer_api.get(URL).json() == before


def test_preferences_need_a_login(api):
    assert api.get(URL).status_code == 401


def test_what_is_sent_follows_the_preferences(
        customer, customer_api, smtp_server, sms_server, consumer,
        django_capture_on_commit_callbacks):
    # given a customer who wants shipping news by SMS only, the receipt by email and SMS
    assert customer_api.patch(URL, {"phone_number": PHONE, "channels": {
        "order_shipped": ["sms"], "order_confirmed": ["email", "sms"],
        "order_delivered": []}}, format="json").status_code == 200
    item = make_item(price="10.00", quantity=20)
    with django_capture_on_commit_callbacks(execute=True):
        order = place(customer, item, quantity=2)  # the saga confirms it (eager)
    order_services.order_ship(order_id=order.order_id, carrier="UPS", tracking_number="1Z9")
    order_services.order_deliver(order_id=order.order_id)
    # when the consumer handles the order's events
    publish()
    with django_capture_on_commit_callbacks(execute=True):
        consumer.poll()
    # then: receipt by email and SMS, shipping by SMS with the tracking link, nothing for
    # the delivery
    assert [(d.kind, d.channel) for d in deliveries()] == [
        ("order_confirmed", "email"), ("order_confirmed", "sms"), ("order_shipped", "sms")]
    [mail] = smtp_server.mailbox.messages
    assert "confirmed" in mail["subject"]
    texts = [m["body"] for m in sms_server.app[sms_sim.MESSAGES]]
    assert texts[0].endswith("Total: 20.00 USD.")
    assert "https://www.ups.com/track?tracknum=1Z9" in texts[1]


def shipped_email_for(customer, smtp_server, consumer, capture):
    item = make_item(price="10.00", quantity=20)
    with capture(execute=True):
        order = place(customer, item)
    order_services.order_ship(order_id=order.order_id, carrier="DHL", tracking_number="JD01")
    publish()
    with capture(execute=True):
        consumer.poll()
    return next(m for m in smtp_server.mailbox.messages if "on its way" in m["subject"])


def test_the_unsubscribe_link_works_once_without_login(
        customer, api, smtp_server, consumer, django_capture_on_commit_callbacks):
    # given the shipping email (not transactional: it carries an unsubscribe link)
    mail = shipped_email_for(customer, smtp_server, consumer, django_capture_on_commit_callbacks)
    link = re.search(r"(http://\S+/unsubscribe/\S+/)", mail["text"]).group(1)
    assert mail["headers"]["List-Unsubscribe"] == f"<{link}>"
    assert mail["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    path = link.split("127.0.0.1:8000")[1]
    # when someone (or a mail scanner) opens it: a confirmation page, nothing changes
    page = api.get(path)
    assert page.status_code == 200 and b"Unsubscribe?" in page.content
    assert NotificationPreference.objects.filter(user=customer).first() is None
    # when the customer confirms, without logging in
    done = api.post(path)
    # then shipping emails stop; other messages are untouched
    assert done.status_code == 200 and b"You are unsubscribed" in done.content
    channels = NotificationPreference.objects.get(user=customer).channels
    assert channels == {"order_shipped": []}
    # and the link does not work a second time
    again = api.post(path)
    assert again.status_code == 410 and b"already been used" in again.content
    assert api.get(path).status_code == 410


def test_an_unsubscribe_link_cannot_be_guessed_or_forged(customer, api):
    from notifications.preferences import UNSUBSCRIBE_SALT, unsubscribe_token

    token = unsubscribe_token(user_id=customer.pk, kind="order_shipped", channel="email")
    forged = [
        "order_shipped-email",                                   # a guess
        token[:-2] + ("AA" if not token.endswith("AA") else "BB"),  # tampered signature
        signing.dumps({"u": str(customer.pk), "k": "order_shipped", "c": "email", "n": "1"},
                      salt="another-salt", compress=True),      # signed for something else
        signing.dumps({"u": str(customer.pk), "k": "order_confirmed", "c": "email", "n": "2"},
                      salt=UNSUBSCRIBE_SALT, compress=True),     # a transactional kind
    ]
    for bad in forged:
        response = api.post(f"/unsubscribe/{bad}/")
        assert response.status_code == 404, bad
    assert NotificationPreference.objects.filter(user=customer).first() is None
    # two links for the same choice are different (a random nonce in each)
    assert token != unsubscribe_token(user_id=customer.pk, kind="order_shipped",
                                      channel="email")
