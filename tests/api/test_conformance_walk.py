"""Every operation, called with real data by the caller it is for, answers a success that
matches the schema (generated requests mostly reach 4xx for lack of real ids). The walk is
one shopping-to-back-office story: a guest browses and checks out, a customer registers,
merges and orders, support ships, delivers, completes and decides cancellations,
inventory staff manage stock and reservations."""

import uuid

import pytest

from commerce.accounts import roles
from inventory.services import stock_reserve
from orders import services as order_services
from tests.api.openapi import Walk, in_test_transaction, operations
from tests.conftest import PASSWORD
from tests.factories import make_item

pytestmark = pytest.mark.django_db

ADDRESS = {"name": "Ada Lovelace", "line1": "12 St James's Square", "city": "London",
           "postal_code": "SW1Y 4JH", "country": "GB"}
ORDER = "/api/v1/orders/{order_id}/"
CART = "/api/v1/cart/"
INV = "/api/v1/inventory/"
# Walked in tests/api/test_conformance_walk_notifications.py.
NOTIFICATION_PATHS = ("/api/v1/me/", "/api/v1/notifications/", "/api/v1/webhooks/")
# Walked in tests/shipping/test_api_conformance.py (against the carrier simulator).
SHIPPING_PATHS = ("/api/v1/shipping/", "/api/v1/cart/shipping-options/",
                  "/api/v1/orders/{order_id}/shipments/", "/api/v1/orders/{order_id}/returns/")


def header(response, name: str) -> str:
    value = response.headers[name.lower()] if name.lower() in response.headers else \
        response.headers[name]
    return value[0] if isinstance(value, list) else value


@pytest.fixture
def walk(settings):
    settings.DEBUG_PROPAGATE_EXCEPTIONS = True
    with in_test_transaction():
        yield Walk()


@pytest.fixture
def people(customer, make_staff):
    return {"customer": customer, "support": make_staff(roles.SUPPORT),
            "inventory": make_staff(roles.INVENTORY)}


def test_every_operation_succeeds_as_documented(walk, people, django_capture_on_commit_callbacks):
    customer, support, inventory = people["customer"], people["support"], people["inventory"]
    item = make_item(price="10.00", quantity=50)
    cheap = make_item(price="2.50", quantity=50)

    # --- a guest browses and checks out -------------------------------------------------
    walk("get", "/api/v1/catalog/products/", 200, query={"q": item.sku[:5]})
    walk("get", "/api/v1/catalog/products/{sku}/", 200, path={"sku": item.sku})
    staff_view = walk("get", "/api/v1/catalog/products/{sku}/", 200, user=inventory,
                      path={"sku": item.sku}).json()
    assert staff_view["available_quantity"] == 50
    walk("post", CART, 201)  # an empty guest cart
    added = walk("post", f"{CART}items/", 201, body={"sku": item.sku, "quantity": 2}).json()
    guest = {"X-Cart-Token": added["token"]}
    walk("post", f"{CART}items/", 201, body={"sku": cheap.sku}, headers=guest)
    walk("patch", f"{CART}items/{{sku}}/", 200, path={"sku": item.sku}, body={"quantity": 1},
         headers=guest)
    walk("delete", f"{CART}items/{{sku}}/", 204, path={"sku": cheap.sku}, headers=guest)
    walk("get", CART, 200, headers=guest)
    placed = walk("post", f"{CART}checkout/", 201, headers=guest,
                  body={"shipping_address": ADDRESS, "email": "guest@example.com",
                        "payment_method": "pm_card_visa"}).json()
    token = {"X-Order-Token": placed["order_access_token"]}
    guest_order = {"order_id": placed["order_id"]}
    walk("get", ORDER, 200, path=guest_order, headers=token)
    walk("get", f"{ORDER}events/", 200, path=guest_order, headers=token)
    walk("get", f"{ORDER}payments/", 200, path=guest_order, headers=token)

    # --- a customer registers, merges a guest cart and orders -----------------------------
    walk("post", "/api/v1/auth/register/", 201,
         body={"email": "new@example.com", "password": PASSWORD})
    walk("post", "/api/v1/auth/token/", 200,
         body={"email": customer.email, "password": PASSWORD})
    walk("get", "/api/v1/auth/me/", 200, user=customer)
    other_guest = walk("post", f"{CART}items/", 201, body={"sku": cheap.sku}).json()["token"]
    walk("post", f"{CART}merge/", 200, user=customer, body={"token": other_guest})
    walk("post", f"{CART}merge/", 200, user=customer, body={"token": other_guest})  # a retry
    walk("delete", CART, 204, user=customer)
    walk("post", "/api/v1/orders/", 409, user=customer,  # more than there is
         body={"lines": [{"sku": item.sku, "quantity": 51}], "shipping_address": ADDRESS})
    with django_capture_on_commit_callbacks(execute=True):  # the saga confirms it
        order = walk("post", "/api/v1/orders/", 201, user=customer,
                     headers={"Idempotency-Key": "walk-1"},
                     body={"lines": [{"sku": item.sku, "quantity": 1}],
                           "shipping_address": ADDRESS, "payment_method": "pm_card_visa"})
    ids = {"order_id": order.json()["order_id"]}
    walk("get", "/api/v1/orders/", 200, user=customer, query={"status": "confirmed"})
    detail = walk("get", ORDER, 200, user=customer, path=ids)
    assert detail.json()["status"] == "confirmed"
    walk("patch", ORDER, 200, user=customer, path=ids, body={"notes": "ring twice"},
         headers={"If-Match": header(detail, "ETag")})
    walk("patch", ORDER, 412, user=customer, path=ids, body={"notes": "x"},
         headers={"If-Match": '"1"'})
    walk("get", f"{ORDER}events/", 200, user=customer, path=ids)
    walk("get", f"{ORDER}payments/", 200, user=customer, path=ids)

    # --- support ships, delivers and completes; decides cancellations ---------------------
    walk("post", f"{ORDER}ship/", 200, user=support, path=ids,
         body={"carrier": "DHL", "tracking_number": "JD0001"})
    walk("post", f"{ORDER}deliver/", 200, user=support, path=ids)
    walk("post", f"{ORDER}complete/", 200, user=support, path=ids)
    walk("post", f"{ORDER}complete/", 200, user=support, path=ids)  # a retry: same answer
    refund = {"amount": "4.00", "reason": "scratched box"}
    with django_capture_on_commit_callbacks(execute=True):  # the refund saga refunds
        walk("post", f"{ORDER}refunds/", 202, user=support, path=ids, body=refund,
             headers={"Idempotency-Key": "refund-1"})
    walk("post", f"{ORDER}refunds/", 409, user=support, path=ids,  # beyond what is left
         body={"amount": "6.01", "reason": "more"}, headers={"Idempotency-Key": "refund-2"})
    assert walk("get", ORDER, 200, user=support, path=ids).json()["refunded_amount"] == "4.00"
    for decision, template in (("reject", f"{ORDER}cancel/reject/"),
                               ("approve", f"{ORDER}cancel/approve/")):
        with django_capture_on_commit_callbacks(execute=True):
            shipped = order_services.order_place(
                customer_id=customer.id, lines=[{"sku": item.sku, "quantity": 1}],
                shipping_address=ADDRESS, payment_method="pm_card_visa")
        shipped_ids = {"order_id": str(shipped.order_id)}
        order_services.order_ship(order_id=shipped.order_id, carrier="UPS",
                                  tracking_number="1Z")
        with django_capture_on_commit_callbacks(execute=True):  # waits for approval
            walk("post", f"{ORDER}cancel/", 202, user=customer, path=shipped_ids,
                 body={"reason": "changed my mind"})
        body = {"reason": "already delivered"} if decision == "reject" else {"approve": True}
        with django_capture_on_commit_callbacks(execute=True):
            walk("post", template, 200, user=support, path=shipped_ids, body=body)
    cancelled = walk("get", ORDER, 200, user=support, path=shipped_ids).json()
    assert cancelled["status"] == "cancelled"
    walk("delete", ORDER, 204, user=support, path=shipped_ids)

    # --- inventory staff manage stock and reservations -------------------------------------
    sku = {"sku": "WALK-1"}
    walk("post", f"{INV}items/", 201, user=inventory,
         body={"sku": "WALK-1", "product_id": "prod_8f3a2c", "name": "Walk", "price": "3.00",
               "total_quantity": 4})
    walk("get", f"{INV}items/", 200, user=inventory, query={"product_id": "prod_8f3a2c"})
    walk("get", f"{INV}items/{{sku}}/", 200, user=inventory, path=sku)
    walk("patch", f"{INV}items/{{sku}}/", 200, user=inventory, path=sku, body={"price": "3.50"})
    walk("post", f"{INV}items/{{sku}}/receive/", 200, user=inventory, path=sku,
         body={"quantity": 10})
    walk("post", f"{INV}items/{{sku}}/adjust/", 200, user=inventory, path=sku,
         body={"delta": -1, "reason": "broken"})
    walk("get", f"{INV}items/{{sku}}/movements/", 200, user=inventory, path=sku)
    walk("get", f"{INV}low-stock/", 200, user=inventory)
    walk("get", f"{INV}reorder/", 200, user=inventory)
    walk("get", f"{INV}summary/", 200, user=inventory)
    reservation = walk("post", f"{INV}reservations/", 201, user=inventory,
                       body={"order_id": str(uuid.uuid4()),
                             "lines": [{"sku": "WALK-1", "quantity": 2}]}).json()
    rid = {"reservation_id": reservation["id"]}
    walk("get", f"{INV}reservations/", 200, user=inventory)
    walk("get", f"{INV}reservations/{{reservation_id}}/", 200, user=inventory, path=rid)
    walk("post", f"{INV}reservations/{{reservation_id}}/confirm/", 200, user=inventory, path=rid)
    walk("post", f"{INV}reservations/{{reservation_id}}/fulfill/", 200, user=inventory, path=rid)
    walk("post", f"{INV}reservations/{{reservation_id}}/restock/", 200, user=inventory, path=rid)
    held = stock_reserve(order_id=uuid.uuid4(), lines=[{"sku": "WALK-1", "quantity": 1}])
    walk("post", f"{INV}reservations/{{reservation_id}}/release/", 200, user=inventory,
         path={"reservation_id": str(held.id)})

    # --- sagas ------------------------------------------------------------------------------
    sagas = walk("get", "/api/v1/sagas/", 200, user=support).json()["results"]
    walk("get", "/api/v1/sagas/{saga_id}/", 200, user=support,
         path={"saga_id": sagas[0]["id"]})

    # then every operation of the schema was seen succeeding
    tokens = {("POST", "/api/v1/auth/token/refresh/"),  # need a token pair: below
              ("POST", "/api/v1/auth/logout/")}
    missing = {(op.method.upper(), op.path) for op in operations()
               if not op.path.startswith(NOTIFICATION_PATHS + SHIPPING_PATHS)} \
        - walk.succeeded - tokens
    assert missing == set()


def test_token_refresh_and_logout_succeed_as_documented(walk, customer):
    pair = walk("post", "/api/v1/auth/token/", 200,
                body={"email": customer.email, "password": PASSWORD}).json()
    pair = walk("post", "/api/v1/auth/token/refresh/", 200,
                body={"refresh": pair["refresh"]}).json()
    walk("post", "/api/v1/auth/logout/", 204, body={"refresh": pair["refresh"]})
