"""Every shipping and returns operation, called with real data by the caller it is for
(against the carrier simulator), answers a success that matches the OpenAPI schema. The
main walk (tests/api/test_conformance_walk.py) leaves these paths to this one."""

import json

import pytest

from cart import services as cart_services
from cart.refs import cart_ref_for_user
from commerce.accounts import roles
from tests.api.openapi import Walk, in_test_transaction, operations
from tests.api.test_conformance_walk import SHIPPING_PATHS

pytestmark = pytest.mark.django_db
SHIPMENTS = "/api/v1/orders/{order_id}/shipments/"
RETURNS = "/api/v1/orders/{order_id}/returns/"
STAFF_SHIPMENT = "/api/v1/shipping/shipments/{shipment_id}/"
STAFF_RETURN = "/api/v1/shipping/returns/{return_id}/"


@pytest.fixture
def walk(settings):
    settings.DEBUG_PROPAGATE_EXCEPTIONS = True
    with in_test_transaction():
        yield Walk()


def test_every_shipping_operation_succeeds_as_documented(
        walk, carrier_sim, confirmed_order, three_items, customer, make_staff,
        django_capture_on_commit_callbacks):
    support, inventory = make_staff(roles.SUPPORT), make_staff(roles.INVENTORY)
    a, b, c = three_items
    # shipping options for a cart
    cart_services.cart_item_add(cart=cart_ref_for_user(customer), sku=a.sku, quantity=1)
    options = walk("get", "/api/v1/cart/shipping-options/", 200, user=customer,
                   query={"country": "US", "postal_code": "10001"}).json()
    assert options["options"]
    # shipments: one parcel, a second voided, the rest, then the staff views
    order = confirmed_order()
    oid = {"order_id": str(order.order_id)}
    first = walk("post", SHIPMENTS, 201, user=support, path=oid, body={
        "carrier": "ups", "lines": [{"sku": a.sku, "quantity": 2}]}).json()
    second = walk("post", SHIPMENTS, 201, user=inventory, path=oid, body={"carrier": "ups"})
    sid = {"shipment_id": second.json()["shipment_id"]}
    walk("post", f"{STAFF_SHIPMENT}void/", 200, user=support, path=sid, body={"reason": "box"})
    third = walk("post", SHIPMENTS, 201, user=support, path=oid, body={"carrier": "ups"}).json()
    sid = {"shipment_id": first["shipment_id"]}
    walk("get", "/api/v1/shipping/shipments/", 200, user=support, query={"carrier": "ups"})
    walk("get", STAFF_SHIPMENT, 200, user=inventory, path=sid)
    walk("get", f"{STAFF_SHIPMENT}label/", 200, user=support, path=sid)
    walk("post", f"{STAFF_SHIPMENT}purchase-label/", 200, user=support, path=sid)
    # tracking pushed by the carrier until both parcels are delivered
    for parcel in (first, third):
        for push in carrier_sim.advance(parcel["tracking_number"], steps=4):
            walk("post", "/api/v1/shipping/webhooks/{carrier}/", 200, path={"carrier": "ups"},
                 body=json.loads(push["body"]),
                 headers={"credential": push["headers"]["credential"]})
    timeline = walk("get", SHIPMENTS, 200, user=customer, path=oid).json()
    assert timeline["status"] == "delivered"
    # returns: one rejected, one approved, labelled and received
    rejected = walk("post", RETURNS, 201, user=customer, path=oid, body={
        "lines": [{"sku": c.sku, "quantity": 1}], "reason": "colour"}).json()
    walk("post", f"{STAFF_RETURN}reject/", 200, user=support,
         path={"return_id": rejected["return_id"]}, body={"reason": "worn"})
    requested = walk("post", RETURNS, 201, user=customer, path=oid, body={
        "lines": [{"sku": b.sku, "quantity": 1}], "reason": "too big"}).json()
    rid = {"return_id": requested["return_id"]}
    walk("get", RETURNS, 200, user=customer, path=oid)
    walk("get", "/api/v1/shipping/returns/", 200, user=support, query={"status": "requested"})
    walk("get", STAFF_RETURN, 200, user=support, path=rid)
    walk("post", f"{STAFF_RETURN}approve/", 200, user=support, path=rid, body={})
    walk("get", f"{RETURNS}{{return_id}}/label/", 200, user=customer, path={**oid, **rid})
    with django_capture_on_commit_callbacks(execute=True):  # the refund saga pays it out
        walk("post", f"{STAFF_RETURN}receive/", 200, user=inventory, path=rid, body={})
    # then every shipping operation of the schema was seen succeeding
    ours = {(op.method.upper(), op.path) for op in operations()
            if op.path.startswith(SHIPPING_PATHS)}
    assert ours and ours - walk.succeeded == set()
