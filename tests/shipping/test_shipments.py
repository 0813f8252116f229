"""Split shipments with labels bought from the (simulated) carriers, stock per shipped
quantity, tracking by signed webhooks and by polling, voids; through the staff API."""

import io
import uuid

import pytest
from django.core.management import call_command

from commerce.accounts import roles
from commerce.eventstore.models import Event
from inventory.selectors import stock_drift
from orders.selectors import order_get
from shipping import services, tracking
from shipping.models import Shipment, TrackingEvent
from tests.conftest import auth_client
from tests.inventory.helpers import levels
from tests.shipping.conftest import deliver_webhook

pytestmark = pytest.mark.django_db


def url(order_id):
    return f"/api/v1/orders/{order_id}/shipments/"


def order_events(order_id, *types):
    return [e.event_type for e in Event.objects.filter(aggregate_id=order_id)
            .order_by("version") if not types or e.event_type in types]


@pytest.fixture
def shipper(make_staff):
    return auth_client(make_staff(roles.INVENTORY))


@pytest.mark.django_db(transaction=True)
def test_split_shipment_in_two_parcels_tracked_to_delivered(
        carrier_sim, confirmed_order, three_items, shipper, customer_api, api):
    order = confirmed_order()
    a, b, c = three_items
    assert [levels(i.sku) for i in three_items] == [(50, 2, 48), (50, 3, 47), (50, 4, 46)]
    # when staff ship all of line 1 and one unit of line 2 with FedEx
    r = shipper.post(url(order.order_id), {"carrier": "fedex", "lines": [
        {"sku": a.sku, "quantity": 2}, {"sku": b.sku, "quantity": 1}]}, format="json")
    assert r.status_code == 201, r.json()
    first = r.json()
    # then the label is bought and only the shipped units left the warehouse
    assert first["status"] == "label_created" and first["carrier"] == "fedex"
    assert len(first["tracking_number"]) == 12
    assert [(ln["sku"], ln["quantity"]) for ln in first["lines"]] == [(a.sku, 2), (b.sku, 1)]
    assert [levels(i.sku) for i in three_items] == [(48, 0, 48), (49, 2, 47), (50, 4, 46)]
    assert order_get(order_id=order.order_id).status == "partially_shipped"
    pdf = shipper.get(first["label_url"])
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    # when the rest goes with UPS (no lines given: everything not shipped yet)
    r = shipper.post(url(order.order_id), {"carrier": "ups"}, format="json")
    assert r.status_code == 201, r.json()
    second = r.json()
    assert [(ln["sku"], ln["quantity"]) for ln in second["lines"]] == [(b.sku, 2), (c.sku, 4)]
    assert [levels(i.sku) for i in three_items] == [(48, 0, 48), (47, 0, 47), (46, 0, 46)]
    assert order_get(order_id=order.order_id).status == "shipped"
    assert order_events(order.order_id, "ShipmentCreated", "ShipmentLabelPurchased",
                        "OrderPartiallyShipped", "OrderShipped") == [
        "ShipmentCreated", "OrderPartiallyShipped", "ShipmentLabelPurchased",
        "ShipmentCreated", "OrderShipped", "ShipmentLabelPurchased"]
    # when the carriers push their scans: the FedEx parcel arrives first
    for push in carrier_sim.advance(first["tracking_number"], steps=4):
        assert deliver_webhook(api, push).json()["recorded"] == 1
    assert order_get(order_id=order.order_id).status == "shipped"  # one still travelling
    for push in carrier_sim.advance(second["tracking_number"], steps=4):
        assert deliver_webhook(api, push).status_code == 200
    # then the order is delivered, once, after the last parcel
    assert order_get(order_id=order.order_id).status == "delivered"
    assert order_events(order.order_id, "OrderDelivered") == ["OrderDelivered"]
    # and the customer sees both parcels with their timelines
    timeline = customer_api.get(url(order.order_id)).json()
    assert timeline["status"] == "delivered"
    assert [s["status"] for s in timeline["shipments"]] == ["delivered", "delivered"]
    assert [e["status"] for e in timeline["shipments"][0]["events"]] == [
        "in_transit", "in_transit", "out_for_delivery", "delivered"]
    assert "label_cost" not in timeline["shipments"][0]
    # and the stock and the read models agree with the events
    assert stock_drift() == []
    out = io.StringIO()
    call_command("replay_events", "--verify", stdout=out)
    assert "0 differences" in out.getvalue()


FORGED = {"fedex": {"fdx-signature": "Zm9yZ2Vk"}, "ups": {"credential": "guessed"},
          "dhl": {"DHL-Signature": "sha256=" + "0" * 64}}


@pytest.mark.parametrize("carrier", ["fedex", "ups", "dhl"])
def test_a_webhook_with_a_bad_signature_records_nothing(carrier_sim, confirmed_order, api,
                                                        carrier):
    order = confirmed_order()
    shipment = services.shipment_create(order_id=order.order_id, carrier=carrier)
    [push] = carrier_sim.advance(shipment.tracking_number)
    before = Event.objects.count()
    forged = {**push, "headers": {**push["headers"], **FORGED[carrier]}}
    r = deliver_webhook(api, forged)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "webhook_signature_invalid"
    assert Event.objects.count() == before
    assert not TrackingEvent.objects.exists()
    # a signature with characters no carrier sends is just as wrong; an unknown carrier
    # is not found
    odd = {**push, "headers": {**push["headers"], **dict.fromkeys(FORGED[carrier], "sïgnature")}}
    assert deliver_webhook(api, odd).status_code == 401
    assert api.post("/api/v1/shipping/webhooks/royalmail/", {}, format="json").status_code == 404


@pytest.mark.parametrize("carrier", ["fedex", "ups", "dhl"])
def test_a_replayed_webhook_records_no_duplicate(carrier_sim, confirmed_order, api, carrier):
    order = confirmed_order()
    shipment = services.shipment_create(order_id=order.order_id, carrier=carrier)
    [push] = carrier_sim.advance(shipment.tracking_number)
    assert deliver_webhook(api, push).json() == {"received": 1, "recorded": 1, "unknown": 0}
    again = deliver_webhook(api, push)
    assert again.status_code == 200
    assert again.json() == {"received": 1, "recorded": 0, "unknown": 0}
    assert order_events(order.order_id, "ShipmentTrackingUpdated") == [
        "ShipmentTrackingUpdated"]
    assert TrackingEvent.objects.count() == 1


def test_polling_picks_up_what_no_webhook_told(carrier_sim, confirmed_order, settings):
    order = confirmed_order()
    shipment = services.shipment_create(order_id=order.order_id, carrier="dhl")
    carrier_sim.advance(shipment.tracking_number, steps=4)  # pushes lost (none configured)
    settings.SHIPPING_TRACKING_STALE_SECONDS = 0
    # when beat polls, then every scan is recorded and the order delivered
    assert tracking.tracking_poll_due()["recorded"] == 4
    assert order_get(order_id=order.order_id).status == "delivered"
    # and a later poll records nothing twice (delivered parcels are not asked again)
    assert tracking.tracking_poll_due() == {"polled": 0, "recorded": 0, "failed": 0}
    assert TrackingEvent.objects.count() == 4


def test_voiding_a_label_puts_the_units_back_on_hold(carrier_sim, confirmed_order,
                                                     three_items, shipper):
    order = confirmed_order()
    shipment = services.shipment_create(order_id=order.order_id, carrier="fedex",
                                        lines=[{"sku": three_items[1].sku, "quantity": 3}])
    assert levels(three_items[1].sku) == (47, 0, 47)
    # when staff void it before pickup
    r = shipper.post(f"/api/v1/shipping/shipments/{shipment.shipment_id}/void/",
                     {"reason": "wrong box"}, format="json")
    assert r.status_code == 200, r.json()
    assert r.json()["status"] == "cancelled"
    # then the carrier voided it, the units are held again and the order waits to ship
    assert carrier_sim.state.shipments[shipment.tracking_number].voided is True
    assert levels(three_items[1].sku) == (50, 3, 47)
    assert order_get(order_id=order.order_id).status == "confirmed"
    assert order_events(order.order_id)[-2:] == ["ShipmentCancelled", "OrderUnshipped"]
    # and a parcel the carrier picked up cannot be voided
    other = services.shipment_create(order_id=order.order_id, carrier="ups")
    carrier_sim.advance(other.tracking_number)
    r = shipper.post(f"/api/v1/shipping/shipments/{other.shipment_id}/void/", {},
                     format="json")
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "shipment_not_cancellable"
    assert Shipment.objects.get(pk=other.shipment_id).status == "label_created"


def test_a_carrier_outage_leaves_the_label_pending_until_beat_buys_it(carrier_sim,
                                                                      confirmed_order):
    order = confirmed_order()
    carrier_sim.fault(carrier="fedex", operation="ship", mode="error", times=3)
    # when the shipment is created while FedEx is down
    shipment = services.shipment_create(order_id=order.order_id, carrier="fedex")
    # then it exists, its stock left, and the label waits
    assert shipment.status == "label_pending"
    assert order_get(order_id=order.order_id).status == "shipped"
    # when beat retries after the outage, then the label is bought once
    assert services.labels_purchase_pending(older_than_seconds=0) == 1
    shipment.refresh_from_db()
    assert shipment.status == "label_created" and shipment.tracking_number
    assert services.labels_purchase_pending(older_than_seconds=0) == 0
    assert len([s for s in carrier_sim.state.shipments.values() if s.carrier == "fedex"]) == 1


def test_a_refused_label_is_recorded_for_staff_with_the_carriers_words(carrier_sim,
                                                                       confirmed_order):
    order = confirmed_order(address={"name": "X", "line1": "1 Nowhere", "city": "Nowhere",
                                     "postal_code": "00000", "country": "US"})
    shipment = services.shipment_create(order_id=order.order_id, carrier="ups")
    assert shipment.status == "label_failed"
    assert shipment.failure_code == "120802"
    assert "not valid" in shipment.failure_message
    # and it can be cancelled (no label to void)
    assert services.shipment_void(shipment_id=shipment.shipment_id).status == "cancelled"


def test_shipments_are_staff_only_and_timelines_the_owners(carrier_sim, confirmed_order,
                                                          customer_api, make_customer):
    order = confirmed_order()
    r = customer_api.post(url(order.order_id), {}, format="json")
    assert r.status_code == 403
    assert not Shipment.objects.exists()
    stranger = auth_client(make_customer())
    assert stranger.get(url(order.order_id)).status_code == 404
    assert customer_api.get(url(order.order_id)).json()["shipments"] == []
    assert customer_api.get(f"/api/v1/shipping/shipments/{uuid.uuid4()}/").status_code == 403


def test_more_than_is_left_to_ship_is_refused_and_nothing_moves(carrier_sim, confirmed_order,
                                                               three_items, shipper):
    order = confirmed_order()
    before = Event.objects.count()
    r = shipper.post(url(order.order_id), {"carrier": "dhl", "lines": [
        {"sku": three_items[0].sku, "quantity": 3}]}, format="json")
    assert r.status_code == 400
    assert r.json()["error"]["details"]["lines"] == [{"quantity": ["At most 2 to ship."]}]
    assert Event.objects.count() == before
    assert levels(three_items[0].sku) == (50, 2, 48)
    assert carrier_sim.calls("dhl", "ship") == 0


@pytest.mark.django_db(transaction=True)
def test_cancelling_a_partially_shipped_order_restocks_and_voids_its_label(
        carrier_sim, confirmed_order, three_items, customer_api, make_staff):
    from sagas.services import saga_decide_approval
    from tests.sagas.helpers import assert_consistent, cancellation_saga

    order = confirmed_order()
    shipment = services.shipment_create(order_id=order.order_id, carrier="fedex", lines=[
        {"sku": three_items[1].sku, "quantity": 2}])
    assert order_get(order_id=order.order_id).status == "partially_shipped"
    # when the customer cancels and staff approve (goods already left the warehouse)
    assert customer_api.post(f"/api/v1/orders/{order.order_id}/cancel/",
                             {"reason": "changed my mind"}, format="json").status_code == 202
    saga = cancellation_saga(order.order_id)
    assert saga.saga_data["approval_reasons"] == ["order already fulfilled"]
    saga_decide_approval(saga_id=saga.id, approve=True, reason="ok")
    # then the order is cancelled and refunded, every unit back in stock
    assert order_get(order_id=order.order_id).status == "cancelled"
    assert [levels(i.sku) for i in three_items] == [(50, 0, 50)] * 3
    # and the label of the parcel still with us was voided at the carrier
    assert Shipment.objects.get(pk=shipment.pk).status == "cancelled"
    assert carrier_sim.state.shipments[shipment.tracking_number].voided is True
    assert_consistent(order.order_id)


@pytest.mark.django_db(transaction=True)
def test_a_shipment_recorded_before_split_shipments_replays_as_the_whole_order(
        confirmed_order, three_items):
    from commerce.eventstore import store
    from commerce.eventstore.types import NewEvent
    from orders.services import repository

    # given a confirmed order shipped the old way: ShipmentCreated v1 (no lines, no label)
    order = confirmed_order()
    shipment_id = str(uuid.uuid4())
    store.append(aggregate_id=order.order_id, aggregate_type="Order",
                 expected_version=repository.get(order.order_id).version, events=[
                     NewEvent("ShipmentCreated", {"shipment_id": shipment_id,
                                                  "carrier": "DHL", "tracking_number": "T1"}),
                     NewEvent("OrderShipped", {})])
    # then the order knows every unit shipped, and the read models replay exactly
    folded = repository.get(order.order_id)
    assert folded.status == "shipped" and not any(folded.unshipped().values())
    assert folded.shipments[shipment_id]["status"] == "in_transit"
    shipment = Shipment.objects.get(pk=shipment_id)
    assert (shipment.carrier, shipment.tracking_number, shipment.lines.count()) == ("DHL", "T1",
                                                                                     0)
    out = io.StringIO()
    call_command("replay_events", "--verify", "--aggregate-type", "Order", stdout=out)
    assert "0 differences" in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_two_staff_shipping_the_rest_at_once_make_one_shipment(carrier_sim, confirmed_order,
                                                               three_items):
    from orders.errors import InvalidTransition
    from tests.concurrency import run_together

    order = confirmed_order()
    # when two people create a shipment of everything left at the same instant
    results = run_together(
        lambda: services.shipment_create(order_id=order.order_id, carrier="fedex"),
        lambda: services.shipment_create(order_id=order.order_id, carrier="ups"))
    # then exactly one shipment holds the units; the other re-decided on the shipped order
    # and was refused (409 invalid_transition), having moved no stock and bought no label
    made = [r for r in results if isinstance(r, Shipment)]
    refused = [r for r in results if isinstance(r, InvalidTransition)]
    assert (len(made), len(refused)) == (1, 1), results
    assert Shipment.objects.count() == 1
    assert [levels(i.sku) for i in three_items] == [(48, 0, 48), (47, 0, 47), (46, 0, 46)]
    assert order_events(order.order_id, "ShipmentCreated") == ["ShipmentCreated"]
    assert len(carrier_sim.state.shipments) == 1
    assert stock_drift() == []


def test_a_signed_but_unreadable_webhook_is_a_400(api, settings):
    import base64
    import hashlib
    import hmac

    body = b'{"not": "a tracking event"}'
    signature = base64.b64encode(hmac.new(settings.FEDEX_WEBHOOK_SECRET.encode(), body,
                                          hashlib.sha256).digest()).decode()
    before = Event.objects.count()
    r = api.post("/api/v1/shipping/webhooks/fedex/", data=body,
                 content_type="application/json", headers={"fdx-signature": signature})
    assert (r.status_code, r.json()["error"]["code"]) == (400, "validation_error")
    assert Event.objects.count() == before
