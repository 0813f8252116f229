"""Staff roles are Django groups with real permissions; every staff operation names the
permission it needs, in the API and the admin alike (issue 11, items 5 and 6)."""

import uuid

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.test import Client

from commerce.accounts import roles
from commerce.api.permissions import HasPermission
from orders import services as order_services
from tests.conftest import auth_client
from tests.factories import make_item
from tests.orders.conftest import ADDRESS, advance

pytestmark = pytest.mark.django_db

SUPPORT, INVENTORY, ADMIN = roles.SUPPORT, roles.INVENTORY, roles.ADMIN


def names(perms) -> set[str]:
    return {f"{p.content_type.app_label}.{p.codename}" for p in perms}


# --- the groups -------------------------------------------------------------------------
def test_groups_hold_exactly_the_declared_permissions():
    declared = roles.role_permissions()
    for role in (SUPPORT, INVENTORY):
        assert names(Group.objects.get(name=role).permissions.all()) == declared[role]
    assert Group.objects.get(name=ADMIN).permissions.count() == Permission.objects.count()
    assert {"orders.cancel_order", "orders.approve_cancellation", "orders.ship_order"} \
        <= declared[SUPPORT]
    assert {"inventory.receive_stock", "inventory.manage_reservation"} <= declared[INVENTORY]
    assert not any(p.startswith("inventory.") for p in declared[SUPPORT])
    assert "orders.cancel_order" not in declared[INVENTORY]


def test_sync_repairs_hand_edits_and_reports(capsys):
    support = Group.objects.get(name=SUPPORT)
    support.permissions.add(Permission.objects.get(codename="receive_stock"))
    support.permissions.remove(Permission.objects.get(codename="cancel_order"))
    call_command("sync_roles")
    assert names(support.permissions.all()) == roles.role_permissions()[SUPPORT]
    assert "roles in sync" in capsys.readouterr().out


def test_unknown_role_in_a_declaration_is_refused(monkeypatch):
    from django.apps import apps

    monkeypatch.setattr(apps.get_app_config("payments"), "role_permissions",
                        {"sales": ("payments.view_payment",)}, raising=False)
    with pytest.raises(ValueError, match="unknown role 'sales'"):
        roles.role_permissions()


def test_permissions_count_only_for_active_staff(make_staff):
    user = make_staff(SUPPORT)
    assert roles.can(user, "orders.cancel_order")
    assert roles.has_role(user, SUPPORT) and not roles.has_role(user, INVENTORY)
    user.is_staff = False
    user.save()
    user = type(user).objects.get(pk=user.pk)
    assert not roles.can(user, "orders.cancel_order")
    assert repr(HasPermission("a.b")) == "HasPermission('a.b')"


# --- the API: each role × each staff operation ------------------------------------------
@pytest.fixture
def world(customer):
    """Another customer's orders in the states the operations need, and a stock item."""
    item = make_item(sku="ROLE-1", quantity=50)

    def order():
        return order_services.order_place(customer_id=customer.id,
                                          lines=[{"sku": "ROLE-1", "quantity": 1}],
                                          shipping_address=ADDRESS)

    return {"item": item, "placed": order(), "failed": advance(order(), "failed")}


def operations(world):
    placed, failed = world["placed"].order_id, world["failed"].order_id
    res_order = uuid.uuid4()
    return {
        # operation: (method, url, body, status when allowed)
        "orders.read_any": ("get", f"/api/v1/orders/{placed}/", None, 200),
        "orders.list_any": ("get", "/api/v1/orders/", None, 200),
        "orders.update_any": ("patch", f"/api/v1/orders/{placed}/", {"notes": "n"}, 428),
        "orders.cancel_any": ("post", f"/api/v1/orders/{placed}/cancel/", {"reason": "r"}, 202),
        "orders.approve_cancellation": ("post", f"/api/v1/orders/{placed}/cancel/approve/",
                                        {"approve": True}, 404),
        "orders.archive": ("delete", f"/api/v1/orders/{failed}/", None, 204),
        "payments.read_any": ("get", f"/api/v1/orders/{placed}/payments/", None, 200),
        "inventory.create_item": ("post", "/api/v1/inventory/items/", {
            "sku": "ROLE-NEW", "product_id": str(uuid.uuid4()), "name": "N",
            "price": "1.00"}, 201),
        "inventory.update_item": ("patch", "/api/v1/inventory/items/ROLE-1/",
                                  {"price": "2.00"}, 200),
        "inventory.receive": ("post", "/api/v1/inventory/items/ROLE-1/receive/",
                              {"quantity": 1}, 200),
        "inventory.adjust": ("post", "/api/v1/inventory/items/ROLE-1/adjust/",
                             {"delta": -1, "reason": "count"}, 200),
        "inventory.movements": ("get", "/api/v1/inventory/items/ROLE-1/movements/", None, 200),
        "inventory.low_stock": ("get", "/api/v1/inventory/low-stock/", None, 200),
        "inventory.reorder": ("get", "/api/v1/inventory/reorder/", None, 200),
        "inventory.summary": ("get", "/api/v1/inventory/summary/", None, 200),
        "inventory.reservations": ("get", "/api/v1/inventory/reservations/", None, 200),
        "inventory.reserve": ("post", "/api/v1/inventory/reservations/", {
            "order_id": str(res_order), "lines": [{"sku": "ROLE-1", "quantity": 1}]}, 201),
        "sagas.list": ("get", "/api/v1/sagas/", None, 200),
        "webhooks.list": ("get", "/api/v1/webhooks/endpoints/", None, 200),
        "webhooks.create": ("post", "/api/v1/webhooks/endpoints/", {
            "name": "erp", "url": "https://erp.example.com/h", "event_types": ["*"]}, 201),
        "shipping.list_shipments": ("get", "/api/v1/shipping/shipments/", None, 200),
        # a placed order cannot ship yet: allowed callers reach the lifecycle's 409
        "shipping.create_shipment": ("post", f"/api/v1/orders/{placed}/shipments/",
                                     {"carrier": "ups"}, 409),
        "shipping.void_shipment": ("post", f"/api/v1/shipping/shipments/{uuid.uuid4()}/void/",
                                   {}, 404),
        "shipping.returns_queue": ("get", "/api/v1/shipping/returns/", None, 200),
        "shipping.decide_return": ("post",
                                   f"/api/v1/shipping/returns/{uuid.uuid4()}/approve/", {}, 404),
        "shipping.receive_return": ("post",
                                    f"/api/v1/shipping/returns/{uuid.uuid4()}/receive/", {}, 404),
    }


ALLOWED = {
    SUPPORT: {"orders.read_any", "orders.list_any", "orders.update_any", "orders.cancel_any",
              "orders.approve_cancellation", "orders.archive", "payments.read_any",
              "sagas.list", "shipping.list_shipments", "shipping.create_shipment",
              "shipping.void_shipment", "shipping.returns_queue", "shipping.decide_return",
              "shipping.receive_return"},
    INVENTORY: {"orders.read_any", "orders.list_any", "inventory.create_item",
                "inventory.update_item", "inventory.receive", "inventory.adjust",
                "inventory.movements", "inventory.low_stock", "inventory.reorder",
                "inventory.summary", "inventory.reservations", "inventory.reserve",
                "sagas.list", "shipping.list_shipments", "shipping.create_shipment",
                "shipping.void_shipment", "shipping.returns_queue", "shipping.receive_return"},
}
ADMIN_ONLY = {"webhooks.list", "webhooks.create"}
OPERATION_NAMES = sorted(ALLOWED[SUPPORT] | ALLOWED[INVENTORY] | ADMIN_ONLY)


@pytest.mark.parametrize("role", [SUPPORT, INVENTORY, ADMIN])
@pytest.mark.parametrize("operation", OPERATION_NAMES)
def test_role_matrix_in_the_api(world, make_staff, role, operation):
    method, url, body, allowed_status = operations(world)[operation]
    client = auth_client(make_staff(role))
    r = getattr(client, method)(url, body, format="json") if body is not None \
        else getattr(client, method)(url)
    if role == ADMIN or operation in ALLOWED[role]:
        assert r.status_code == allowed_status, (role, operation, r.content[:300])
    elif operation in ("orders.read_any", "payments.read_any"):
        # reading another customer's order is "not found", never a hint that it exists
        assert r.status_code == 404
    else:
        assert r.status_code == 403, (role, operation, r.content[:300])
        assert r.json()["error"]["code"] == "permission_denied"


def test_inventory_staff_cannot_cancel_an_order_and_nothing_is_recorded(world, make_staff):
    from commerce.eventstore.models import Event

    before = Event.objects.count()
    r = auth_client(make_staff(INVENTORY)).post(
        f"/api/v1/orders/{world['placed'].order_id}/cancel/", {"reason": "x"}, format="json")
    assert r.status_code == 403
    assert Event.objects.count() == before


def test_customers_still_cancel_and_update_their_own_orders(world, customer):
    api = auth_client(customer)
    order = world["placed"]
    r = api.patch(f"/api/v1/orders/{order.order_id}/", {"notes": "n"}, format="json",
                  HTTP_IF_MATCH=f'"{order.version}"')
    assert r.status_code == 200
    assert api.post(f"/api/v1/orders/{order.order_id}/cancel/", {"reason": "r"},
                    format="json").status_code == 202
    assert api.delete(f"/api/v1/orders/{world['failed'].order_id}/").status_code == 403


# --- the admin: the same questions -----------------------------------------------------
@pytest.fixture
def admin_for(make_staff):
    def make(role):
        client = Client()
        client.force_login(make_staff(role))
        return client

    return make


PAGES = {
    "/admin/orders/orderview/": {SUPPORT, INVENTORY, ADMIN},
    "/admin/payments/payment/": {SUPPORT, ADMIN},
    "/admin/sagas/sagainstance/": {SUPPORT, INVENTORY, ADMIN},
    "/admin/inventory/inventoryitem/": {INVENTORY, ADMIN},
    "/admin/inventory/inventoryitem/add/": {INVENTORY, ADMIN},
    "/admin/inventory/reservation/": {INVENTORY, ADMIN},
    "/admin/inventory/stockmovement/": {INVENTORY, ADMIN},
    "/admin/eventstore/event/": {ADMIN},
    "/admin/shipping/shipment/": {SUPPORT, INVENTORY, ADMIN},
    "/admin/shipping/returnrequest/": {SUPPORT, INVENTORY, ADMIN},
    "/admin/accounts/user/": {ADMIN},
    "/admin/notifications/delivery/": {SUPPORT, ADMIN},
    "/admin/notifications/templateoverride/preview/": {SUPPORT, ADMIN},
    "/admin/notifications/templateoverride/add/": {ADMIN},
    "/admin/notifications/webhookendpoint/": {ADMIN},
    "/admin/notifications/webhookdelivery/": {ADMIN},
}


@pytest.mark.parametrize("role", [SUPPORT, INVENTORY, ADMIN])
@pytest.mark.parametrize("page", sorted(PAGES))
def test_role_matrix_in_the_admin(admin_for, role, page):
    r = admin_for(role).get(page)
    assert r.status_code == (200 if role in PAGES[page] else 403), (role, page)


@pytest.mark.parametrize(("role", "can_receive"), [(SUPPORT, False), (INVENTORY, True),
                                                    (ADMIN, True)])
def test_receiving_stock_in_the_admin(admin_for, role, can_receive):
    from inventory.models import InventoryItem
    from tests.inventory.helpers import levels

    item = make_item(sku="ADM-RCV", quantity=5)
    client = admin_for(role)
    r = client.post("/admin/inventory/inventoryitem/", {
        "action": "receive_stock", "_selected_action": [str(item.pk)], "apply": "1",
        "quantity": "3", "reason": "delivery"})
    assert levels("ADM-RCV") == ((8, 0, 8) if can_receive else (5, 0, 5))
    assert r.status_code in ((200, 302) if can_receive else (403,))
    assert InventoryItem.objects.filter(sku="ADM-RCV").count() == 1


@pytest.mark.parametrize(("role", "can_ship"), [(SUPPORT, True), (INVENTORY, False),
                                                 (ADMIN, True)])
def test_order_transitions_in_the_admin(admin_for, customer, role, can_ship):
    make_item(sku="ADM-SHIP")
    order = advance(order_services.order_place(
        customer_id=customer.id, lines=[{"sku": "ADM-SHIP", "quantity": 1}],
        shipping_address=ADDRESS), "confirmed")
    client = admin_for(role)
    page = client.get(f"/admin/orders/orderview/{order.order_id}/change/")
    assert page.status_code == 200
    assert ("transition/ship/" in page.text) is can_ship
    client.post(f"/admin/orders/orderview/{order.order_id}/transition/ship/")
    from orders.selectors import order_get

    assert order_get(order_id=order.order_id).status == ("shipped" if can_ship else "confirmed")


@pytest.mark.parametrize(("role", "actions"), [
    (SUPPORT, {"approve_cancellation", "reject_cancellation"}),
    (INVENTORY, set()),
    (ADMIN, {"approve_cancellation", "reject_cancellation", "retry_failed_step",
             "resume_forward", "force_compensation"}),
])
def test_saga_actions_offered_per_role(make_staff, role, actions):
    from django.contrib.admin.sites import site
    from django.test import RequestFactory

    from sagas.models import SagaInstance

    request = RequestFactory().get("/admin/sagas/sagainstance/")
    request.user = make_staff(role)
    assert set(site._registry[SagaInstance].get_actions(request)) == actions
