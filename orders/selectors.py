"""Order reads, from the read models (never by folding events, except the history)."""

import datetime as dt

from django.db import connection
from django.db.models import Prefetch, QuerySet

from commerce.core.bulk import plain_array_literal
from commerce.core.errors import NotFound
from commerce.eventstore import store
from commerce.eventstore.models import Event
from commerce.eventstore.types import RecordedEvent
from inventory.owners import OwnerState
from orders import events as ev
from orders.lifecycle import OrderStatus
from orders.models import OrderLine, OrderView


def order_get(*, order_id, customer_id=None) -> OrderView:
    """The order with its lines (two queries). With `customer_id`, another customer's order
    is NotFound (never "forbidden": ids must not be probeable)."""
    qs = OrderView.objects.prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.order_by("line_no")))
    if customer_id is not None:
        qs = qs.filter(customer_id=customer_id)
    try:
        return qs.get(pk=order_id)
    except (OrderView.DoesNotExist, ValueError):
        raise NotFound("Order not found.") from None


def order_list(
    *, customer_id=None, status: str | None = None, created_from: dt.datetime | None = None,
    created_to: dt.datetime | None = None, include_archived: bool = False,
) -> QuerySet[OrderView]:
    """Newest first; archived orders hidden unless asked for. No lines (a list shows
    summaries; the detail has the lines)."""
    qs = OrderView.objects.all()
    if customer_id is not None:
        qs = qs.filter(customer_id=customer_id)
    if status:
        qs = qs.filter(status=status)
    if created_from is not None:
        qs = qs.filter(created_at__gte=created_from)
    if created_to is not None:
        qs = qs.filter(created_at__lt=created_to)
    if not include_archived:
        qs = qs.filter(archived=False)
    return qs.order_by("-created_at", "-order_id")


def order_events(*, order_id) -> list[RecordedEvent]:
    """The order's event history, oldest first."""
    events = store.load(order_id)
    if not events or events[0].aggregate_type != ev.ORDER:
        raise NotFound("Order not found.")
    return events


def order_shipping_option(*, order_id) -> dict | None:
    """The shipping option the customer chose at checkout (carrier, service_level,
    service_code, price…), or None."""
    placed = Event.objects.filter(aggregate_id=order_id, event_type=ev.ORDER_PLACED).first()
    return placed.event_data.get("shipping_option") if placed else None


# --- what inventory_verify asks (registered in orders/apps.py as inventory.owners) ----------
# An order holds stock from placement (its saga reserves) until it ships or ends; partly
# shipped, it holds the units not shipped yet.
HOLDING_STOCK = frozenset({OrderStatus.PLACED, OrderStatus.RESERVED, OrderStatus.PAID,
                           OrderStatus.CONFIRMED, OrderStatus.PARTIALLY_SHIPPED})


def order_stock_states(order_ids) -> dict:
    return {oid: OwnerState(status=status, holds_stock=status in HOLDING_STOCK)
            for oid, status in OrderView.objects.filter(pk__in=list(order_ids))
            .values_list("order_id", "status")}


def orders_needing_confirmed_stock() -> list:
    """Confirmed (paid) orders, partly shipped ones too, with no cancellation under way:
    their units must be held (or shipped)."""
    return list(OrderView.objects.filter(status__in=(OrderStatus.CONFIRMED,
                                                     OrderStatus.PARTIALLY_SHIPPED),
                                         cancellation_pending=False)
                .values_list("order_id", flat=True))


def orders_with_cancellation_pending(*, order_ids) -> set:
    """Which of these orders have a cancellation pending (one query, for batch steps)."""
    # Raw SQL: every batch step of the fulfilment saga asks, and compiling the ORM query
    # cost more than running it.
    with connection.cursor() as cursor:
        cursor.execute("SELECT order_id FROM order_views WHERE order_id = ANY(%s::uuid[]) "
                       "AND cancellation_pending", [plain_array_literal(list(order_ids))])
        return {row[0] for row in cursor.fetchall()}
