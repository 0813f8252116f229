"""The `order_views` / `order_lines` read models, updated inline with every Order append
and rebuilt by `replay_events`. Pure function of the events (timestamps from
`event.created_at`); the new status of each event comes from the lifecycle declaration."""

import uuid
from contextvars import ContextVar
from decimal import Decimal

from django.db.models import F

from commerce.core.bulk import insert_rows_together, update_rows
from commerce.eventstore.projections import Projection, register
from commerce.eventstore.types import RecordedEvent
from orders import events as ev
from orders import lifecycle
from orders.models import OrderLine, OrderView, line_id


def placed_rows(event: RecordedEvent) -> tuple[OrderView, list[OrderLine]]:
    """The (unsaved) view and lines an OrderPlaced creates (order_place answers with the
    ones this projection just wrote: rows_just_placed)."""
    d = event.data
    view = OrderView(
        order_id=event.aggregate_id, customer_id=uuid.UUID(d["customer_id"]),
        status=lifecycle.OrderStatus.PLACED, currency=d["currency"],
        subtotal=Decimal(d["subtotal"]), shipping_total=Decimal(d["shipping"]),
        discount_total=Decimal(d["discount"]), tax_total=Decimal(d["tax"]),
        total_amount=Decimal(d["total"]),
        item_count=sum(line["quantity"] for line in d["lines"]),
        shipping_address=d["shipping_address"], payment_method=d["payment_method"],
        channel=d["channel"], version=event.version, created_at=event.created_at,
        updated_at=event.created_at,
    )
    lines = [OrderLine(id=line_id(event.aggregate_id, n), order=view, line_no=n,
                       sku=line["sku"], name=line["name"],
                       unit_price=Decimal(line["unit_price"]), quantity=line["quantity"],
                       line_total=Decimal(line["line_total"]))
             for n, line in enumerate(d["lines"], start=1)]
    return view, lines


# The rows the projection just wrote for an OrderPlaced, kept for the command that appended
# it (same thread, same context): order_place answers with them instead of building them a
# second time.
_just_placed: ContextVar[tuple | None] = ContextVar("just_placed", default=None)


def rows_just_placed(event: RecordedEvent) -> tuple[OrderView, list[OrderLine]]:
    """The view and lines this projection wrote for `event` (an OrderPlaced it handled in
    this context), else built anew by placed_rows."""
    kept = _just_placed.get()
    if kept is not None and kept[0] == event.id:
        return kept[1], kept[2]
    return placed_rows(event)


def _fields(model) -> list[str]:
    return [f.name for f in model._meta.concrete_fields]


_VIEW_FIELDS, _LINE_FIELDS = _fields(OrderView), _fields(OrderLine)


@register
class OrderViewsProjection(Projection):
    name = "orders"
    aggregate_types = frozenset({ev.ORDER})
    models = (OrderLine, OrderView)

    def handle(self, event: RecordedEvent) -> None:
        if event.event_type == ev.ORDER_PLACED:
            self._placed(event)
            return
        OrderView.objects.filter(pk=event.aggregate_id).update(**self._fields(event))

    def handle_many(self, events: list[RecordedEvent]) -> None:
        """A batch of saga steps: each order's events folded into the columns they set, then
        one UPDATE per set of columns, instead of one per event."""
        streams: dict = {}
        for event in events:
            streams.setdefault(event.aggregate_id, []).append(event)
        batches: dict[frozenset, list[OrderView]] = {}
        for order_id, stream in streams.items():
            fields = self._fold(stream)
            if fields is None:
                for event in stream:
                    self.handle(event)
                continue
            batches.setdefault(frozenset(fields), []).append(OrderView(order_id=order_id,
                                                                       **fields))
        for columns, views in batches.items():
            update_rows(OrderView, views, sorted(columns))

    def _fold(self, stream: list[RecordedEvent]) -> dict | None:
        """The columns a run of events sets, as `handle` would leave them; None where only
        event-by-event handling will do (a placement, a running total)."""
        fields: dict = {}
        for event in stream:
            if event.event_type == ev.ORDER_PLACED:
                return None
            changes = self._fields(event)
            if any(hasattr(value, "resolve_expression") for value in changes.values()):
                return None
            fields.update(changes)
        return fields

    def _fields(self, event: RecordedEvent) -> dict:
        fields = {"version": event.version, "updated_at": event.created_at}
        action = ev.TRANSITIONS.get(event.event_type)
        if action is not None and (target := lifecycle.target_status(action)) is not None:
            fields["status"] = target
        method = getattr(self, f"on_{event.event_type}", None)
        if method is not None:
            fields.update(method(event.data))
        return fields

    def _placed(self, event: RecordedEvent) -> None:
        view, lines = placed_rows(event)
        insert_rows_together((OrderView, [view], _VIEW_FIELDS), (OrderLine, lines, _LINE_FIELDS))
        _just_placed.set((event.id, view, lines))

    # Each returns the columns an event changes besides status/version/updated_at.
    def on_ShippingAddressChanged(self, d):
        return {"shipping_address": d["shipping_address"]}

    def on_OrderNotesChanged(self, d):
        return {"notes": d["notes"]}

    def on_InventoryReserved(self, d):
        return {"reservation_id": d["reservation_id"]}

    def on_PaymentAuthorized(self, d):
        return {"payment_id": d["payment_id"]}

    def on_PaymentCaptured(self, d):
        return {"payment_id": d["payment_id"], "captured_amount": Decimal(d["amount"])}

    def on_ShipmentCreated(self, d):
        return {"shipment_id": d["shipment_id"], "carrier": d["carrier"],
                "tracking_number": d["tracking_number"]}

    def on_CancellationRequested(self, d):
        return {"cancellation_pending": True, "cancellation_reason": d["reason"]}

    def on_CancellationRejected(self, d):
        return {"cancellation_pending": False}

    def on_OrderCancelled(self, d):
        return {"cancellation_pending": False, "cancellation_reason": d["reason"]}

    def on_RefundIssued(self, d):
        return {"refunded_amount": F("refunded_amount") + Decimal(d["amount"])}

    def on_OrderFailed(self, d):
        return {"cancellation_pending": False, "failure_code": d["code"],
                "failure_reason": d["reason"]}

    def on_OrderArchived(self, d):
        return {"archived": True}
