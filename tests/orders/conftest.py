"""Order test helpers: orders are made through the real services (catalog via make_item)."""

import uuid

import pytest

from commerce.eventstore import policies
from commerce.eventstore.models import Event
from orders import services
from orders.models import OrderLine, OrderView
from tests.factories import make_item

ADDRESS = {"name": "Ada Lovelace", "line1": "12 St James's Square", "city": "London",
           "postal_code": "SW1Y 4JH", "country": "GB"}


@pytest.fixture
def no_policies(monkeypatch):
    """The order aggregate alone: no policy (e.g. the sagas' fulfilment saga, which runs
    eagerly on commit in tests) reacts to this test's events. Needed wherever commits
    happen (transaction=True tests, executed on_commit callbacks); sagas are tested with
    orders in tests/sagas and tests/integration."""
    monkeypatch.setattr(policies, "_policies", {})


@pytest.fixture
def items(db):
    """Two catalog items: 10.00 and 2.50."""
    return [make_item(price="10.00", quantity=100), make_item(price="2.50", quantity=100)]


@pytest.fixture
def place(items, customer):
    def place_order(*, who=None, lines=None, **kw):
        return services.order_place(
            customer_id=(who or customer).id,
            lines=lines or [{"sku": items[0].sku, "quantity": 2},
                            {"sku": items[1].sku, "quantity": 3}],
            shipping_address=kw.pop("shipping_address", ADDRESS), **kw)

    return place_order


def snapshot(order_id=None):
    """Everything an order command can write: events, views and lines."""
    events = Event.objects.all()
    views = OrderView.objects.all()
    lines = OrderLine.objects.all()
    if order_id is not None:
        events = events.filter(aggregate_id=order_id)
        views = views.filter(pk=order_id)
        lines = lines.filter(order_id=order_id)
    return (list(events.order_by("position").values_list("id", flat=True)),
            list(views.values()), list(lines.values()))


PATHS = {  # status → the service calls that lead there from "placed", in order
    "placed": [],
    "reserved": ["reserve"],
    "paid": ["reserve", "authorize"],
    "confirmed": ["reserve", "authorize", "capture", "confirm"],
    "partially_shipped": ["reserve", "authorize", "capture", "confirm", "ship_first_line"],
    "shipped": ["reserve", "authorize", "capture", "confirm", "ship"],
    "delivered": ["reserve", "authorize", "capture", "confirm", "ship", "deliver"],
    "completed": ["reserve", "authorize", "capture", "confirm", "ship", "deliver", "complete"],
    "partially_returned": ["reserve", "authorize", "capture", "confirm", "ship", "deliver",
                           "return_first_line"],
    "returned": ["reserve", "authorize", "capture", "confirm", "ship", "deliver", "return_all"],
    "cancelled": ["request_cancellation", "cancel"],
    "failed": ["fail"],
    "refunded": ["reserve", "authorize", "capture", "confirm", "ship", "deliver", "complete",
                 "refund_all"],
}


def step(order, name):
    """One real service call, as a saga / staff member would make it."""
    from inventory.services import stock_reserve

    oid = order.order_id
    first = order.lines.all()[0]
    calls = {
        "reserve": lambda: services.order_mark_reserved(
            order_id=oid, reservation_id=stock_reserve(
                order_id=oid, lines=[{"sku": ln.sku, "quantity": ln.quantity}
                                     for ln in order.lines.all()]).id),
        "authorize": lambda: services.order_mark_payment_authorized(
            order_id=oid, payment_id="pay_1", amount=order.total_amount),
        "capture": lambda: services.order_mark_payment_captured(
            order_id=oid, payment_id="pay_1", amount=order.total_amount),
        "confirm": lambda: services.order_confirm(order_id=oid),
        "ship": lambda: services.order_ship(order_id=oid, carrier="DHL", tracking_number="T1"),
        "ship_first_line": lambda: services.order_shipment_create(
            order_id=oid, shipment_id=uuid.uuid4(), carrier="fedex",
            lines=[{"sku": first.sku, "quantity": first.quantity}]),
        "return_first_line": lambda: return_lines(
            oid, [{"sku": first.sku, "quantity": first.quantity}]),
        "return_all": lambda: return_lines(
            oid, [{"sku": ln.sku, "quantity": ln.quantity} for ln in order.lines.all()]),
        "return_rest": lambda: return_lines(oid, [
            {"sku": sku, "quantity": n}
            for sku, n in services.repository.get(oid).returnable().items() if n]),
        "reject_return": lambda: reject_return(oid, [{"sku": first.sku, "quantity": 1}]),
        "cancel_shipments": lambda: [
            services.order_shipment_cancel(order_id=oid, shipment_id=sid, reason="void",
                                           label_voided=True)
            for sid, s in services.repository.get(oid).shipments.items()
            if s["status"] != "cancelled"][-1],
        "deliver": lambda: services.order_deliver(order_id=oid),
        "complete": lambda: services.order_complete(order_id=oid),
        "request_cancellation": lambda: services.order_request_cancellation(
            order_id=oid, reason="changed mind"),
        "cancel": lambda: services.order_cancel(order_id=oid, reason="cancelled by saga"),
        "reject_cancellation": lambda: services.order_reject_cancellation(
            order_id=oid, reason="already packed"),
        "fail": lambda: services.order_fail(order_id=oid, reason="card declined",
                                            code="payment_declined"),
        "refund_all": lambda: services.order_record_refund(
            order_id=oid, payment_id="pay_1", amount=order.total_amount),
        "archive": lambda: services.order_archive(order_id=oid),
        "update": lambda: services.order_update(
            order_id=oid, expected_version=services.repository.get(oid).version,
            notes="new note"),
    }
    return calls[name]()


def return_lines(order_id, lines):
    """A return of `lines` requested, approved and received (restocked)."""
    return_id = uuid.uuid4()
    services.order_return_request(order_id=order_id, return_id=return_id, lines=lines,
                                  reason="does not fit")
    services.order_return_approve(order_id=order_id, return_id=return_id, carrier="ups",
                                  service_level="standard", tracking_number="1ZRETURN",
                                  label_url=f"/api/v1/returns/{return_id}/label/")
    return services.order_return_receive(order_id=order_id, return_id=return_id)


def reject_return(order_id, lines):
    return_id = uuid.uuid4()
    services.order_return_request(order_id=order_id, return_id=return_id, lines=lines,
                                  reason="changed my mind")
    return services.order_return_reject(order_id=order_id, return_id=return_id,
                                        reason="used")


def advance(order, status):
    for name in PATHS[status]:
        order = step(order, name)
    return order
