"""Templates: files per kind and channel, staff overrides taking precedence without a
deploy, and the admin preview with a sample event."""

import pytest
from django.test import Client

from commerce.accounts import roles
from notifications.delivery import delivery_send
from notifications.models import Delivery, TemplateOverride
from notifications.rendering import render
from notifications.samples import sample_context
from simulators import slack as slack_sim
from tests.notifications.conftest import make_delivery

pytestmark = pytest.mark.django_db

PREVIEW = "/admin/notifications/templateoverride/preview/"
ADD = "/admin/notifications/templateoverride/add/"


@pytest.fixture
def admin_for(make_staff):
    def make(*role_names):
        client = Client()
        client.force_login(make_staff(*role_names))
        return client
    return make


def sms(language="en") -> str:
    return render(kind="order_shipped", channel="sms", language=language,
                  context=sample_context("order_shipped")).body


def test_an_override_replaces_the_file_for_its_language_then_for_all():
    shipped = sms()
    assert shipped.startswith("Your order 3F2B8C1E has shipped.")
    # an override for Spanish only
    TemplateOverride.objects.create(kind="order_shipped", channel="sms", file="sms.txt",
                                    language="es", source="¡En camino! {{ tracking_url }}")
    assert sms("es") == "¡En camino! https://www.ups.com/track?tracknum=1Z999AA10123456784"
    assert sms("en") == shipped
    # one for every language; Spanish keeps its own
    TemplateOverride.objects.create(kind="order_shipped", channel="sms", file="sms.txt",
                                    source="On its way: {{ order_ref }}")
    assert (sms("en"), sms("es").startswith("¡En camino!")) == ("On its way: 3F2B8C1E", True)
    # switched off: the file again
    TemplateOverride.objects.update(active=False)
    assert sms() == shipped


def test_a_broken_override_falls_back_to_the_file():
    TemplateOverride.objects.create(kind="order_shipped", channel="sms", file="sms.txt",
                                    source="{% if %}")
    assert sms().startswith("Your order 3F2B8C1E has shipped.")


def test_staff_preview_every_template_with_a_sample_event(admin_for):
    client = admin_for(roles.ADMIN)
    page = client.get(PREVIEW)
    assert page.status_code == 200
    assert "Your order 3F2B8C1E is confirmed" in page.text
    assert "*Low stock*" in page.text
    spanish = client.get(PREVIEW, {"language": "es", "kind": "order_confirmed",
                                   "channel": "email"})
    assert "Tu pedido 3F2B8C1E está confirmado" in spanish.text
    assert "54,20 USD" in spanish.text
    assert admin_for(roles.INVENTORY).get(PREVIEW).status_code == 403
    assert admin_for(roles.SUPPORT).get(PREVIEW).status_code == 200  # support may look


def test_staff_override_a_template_in_the_admin_without_a_deploy(admin_for):
    client = admin_for(roles.ADMIN)
    # the add form starts from the shipped file
    form = client.get(ADD, {"kind": "order_confirmed", "file": "sms.txt"})
    assert "Your order {{ order_ref }} is confirmed" in form.text
    # a broken template is refused
    data = {"kind": "order_confirmed", "channel": "sms", "file": "sms.txt", "language": "",
            "source": "{% blocktrans %}", "active": "on"}
    refused = client.post(ADD, data)
    assert refused.status_code == 200 and "Template error" in refused.text
    assert TemplateOverride.objects.count() == 0
    # a good one is saved and used by the next message at once
    saved = client.post(ADD, {**data, "source": "Thanks! Order {{ order_ref }}: "
                                               "{{ total }} {{ currency }}"})
    assert saved.status_code == 302
    override = TemplateOverride.objects.get()
    assert override.updated_by.startswith("s-")
    page = client.get(f"/admin/notifications/templateoverride/{override.pk}/change/")
    assert "Thanks! Order 3F2B8C1E: 54.20 USD" in page.text
    assert render(kind="order_confirmed", channel="sms", language="en",
                  context=sample_context("order_confirmed")).body == \
        "Thanks! Order 3F2B8C1E: 54.20 USD"


def test_deliveries_admin_filters_and_resends(admin_for, slack_server,
                                              django_capture_on_commit_callbacks):
    client = admin_for(roles.SUPPORT)
    delivery = make_delivery(channel="slack", recipient="#ops")
    delivery_send(delivery_id=delivery.pk)
    listing = client.get("/admin/notifications/delivery/", {"status__exact": "delivered",
                                                            "channel__exact": "slack"})
    assert listing.status_code == 200 and "#ops" in listing.text
    assert "#ops" not in client.get("/admin/notifications/delivery/",
                                    {"status__exact": "failed"}).text
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/admin/notifications/delivery/", {
            "action": "resend", "_selected_action": [str(delivery.pk)]})
    assert response.status_code == 302
    delivery = Delivery.objects.get(pk=delivery.pk)
    assert (delivery.status, delivery.resends) == ("delivered", 1)
    assert len(slack_server.app[slack_sim.MESSAGES]) == 2
    # inventory staff do not see deliveries
    assert admin_for(roles.INVENTORY).get("/admin/notifications/delivery/").status_code == 403

