"""Order test helpers: orders are made through the real services (catalog via make_item)."""

import pytest

from commerce.eventstore.models import Event
from orders import services
from orders.models import OrderLine, OrderView
from tests.factories import make_item

ADDRESS = {"name": "Ada Lovelace", "line1": "12 St James's Square", "city": "London",
           "postal_code": "SW1Y 4JH", "country": "GB"}


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
