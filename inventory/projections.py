"""The inventory read models, updated inline with every append and rebuilt by
`replay_events`. This projection is the only writer of the stock counters: services lock
and check, then append; the counter deltas are applied here exactly once, so a replay in
`position` order reproduces exactly the live levels.

One projection owns all inventory tables because reservation events change item counters:
replaying them separately could not reproduce the levels."""

from decimal import Decimal

from django.db.models import F

from commerce.eventstore.projections import Projection, register
from commerce.eventstore.types import RecordedEvent
from inventory import events as ev
from inventory.models import (
    InventoryItem,
    Product,
    Reservation,
    ReservationLine,
    StockMovement,
    line_id,
    movement_id,
)

# What each reservation event does to the counters of each line: (total, reserved) per unit,
# and to the line's own progress columns. A status of None: the event's data says it.
_K, _S = StockMovement.Kind, Reservation.Status
_RESERVATION_DELTAS = {
    ev.STOCK_RESERVED: (_K.RESERVED, _S.RESERVED, 0, 1, None),
    ev.RESERVATION_CONFIRMED: (_K.CONFIRMED, _S.CONFIRMED, 0, 0, None),
    ev.RESERVATION_FULFILLED: (_K.FULFILLED, _S.FULFILLED, -1, -1, "fulfilled_quantity"),
    ev.RESERVATION_RELEASED: (_K.RELEASED, _S.RELEASED, 0, -1, None),
    ev.RESERVATION_EXPIRED: (_K.EXPIRED, _S.EXPIRED, 0, -1, None),
    ev.RESERVATION_RESTOCKED: (_K.RESTOCKED, _S.RESTOCKED, 1, 0, "restocked_quantity"),
    ev.RESERVATION_LINES_FULFILLED: (_K.FULFILLED, None, -1, -1, "fulfilled_quantity"),
    ev.RESERVATION_LINES_UNFULFILLED: (_K.UNFULFILLED, None, 1, 1, "-fulfilled_quantity"),
    ev.RESERVATION_LINES_RESTOCKED: (_K.RESTOCKED, None, 1, 0, "restocked_quantity"),
}
_MEASURES = ("weight_kg", "length_cm", "width_cm", "height_cm")


@register
class InventoryProjection(Projection):
    name = "inventory"
    aggregate_types = frozenset({ev.STOCK_ITEM, ev.RESERVATION})
    event_types = ev.STOCK_ITEM_EVENTS | ev.RESERVATION_EVENTS
    models = (StockMovement, ReservationLine, Reservation, InventoryItem, Product)

    # --- StockItem stream -----------------------------------------------------------
    def on_ItemCreated(self, event: RecordedEvent) -> None:
        d = event.data
        product = Product.objects.create(
            id=event.aggregate_id, sku=d["sku"], product_id=d["product_id"], name=d["name"],
            unit_price=Decimal(d["unit_price"]), currency=d["currency"], active=d["active"],
            created_at=event.created_at, updated_at=event.created_at,
            **{m: Decimal(d[m]) for m in _MEASURES if d.get(m) is not None},
        )
        InventoryItem.objects.create(
            id=event.aggregate_id, catalog=product, sku=d["sku"], product_id=d["product_id"],
            total=0, reserved=0, low_stock_threshold=d["low_stock_threshold"],
            reorder_point=d["reorder_point"], reorder_quantity=d["reorder_quantity"],
            version=event.version, updated_at=event.created_at,
        )

    def on_ProductUpdated(self, event: RecordedEvent) -> None:
        changes = {k: v for k, v in event.data.items() if k in ("name", "currency", "active")}
        for field in ("unit_price", *_MEASURES):
            if field in event.data:
                changes[field] = Decimal(event.data[field])
        Product.objects.filter(id=event.aggregate_id).update(**changes,
                                                             updated_at=event.created_at)
        self._bump_item(event)

    def on_StockSettingsChanged(self, event: RecordedEvent) -> None:
        self._bump_item(event, **{
            k: v for k, v in event.data.items()
            if k in ("low_stock_threshold", "reorder_point", "reorder_quantity")
        })

    def on_StockReceived(self, event: RecordedEvent) -> None:
        qty = event.data["quantity"]
        self._bump_item(event, total=F("total") + qty)
        self._movement(event, event.data["sku"], StockMovement.Kind.RECEIVED, qty,
                       total_delta=qty, reason=event.data.get("reason", ""))

    def on_StockAdjusted(self, event: RecordedEvent) -> None:
        delta = event.data["delta"]
        self._bump_item(event, total=F("total") + delta)
        self._movement(event, event.data["sku"], StockMovement.Kind.ADJUSTED, delta,
                       total_delta=delta, reason=event.data["reason"])

    def on_LowStockReached(self, event: RecordedEvent) -> None:
        self._bump_item(event)  # a fact for others; only the stream version moves

    def _bump_item(self, event: RecordedEvent, **changes) -> None:
        InventoryItem.objects.filter(id=event.aggregate_id).update(
            **changes, version=event.version, updated_at=event.created_at
        )

    # --- Reservation streams --------------------------------------------------------
    def handle(self, event: RecordedEvent) -> None:
        if event.event_type in _RESERVATION_DELTAS:
            self._on_reservation_event(event)
        else:
            super().handle(event)

    def _on_reservation_event(self, event: RecordedEvent) -> None:
        d = event.data
        kind, status, total_sign, reserved_sign, progress = _RESERVATION_DELTAS[event.event_type]
        status = status or d["status"]
        reason = d.get("reason", "")
        if event.event_type == ev.STOCK_RESERVED:
            reservation = Reservation.objects.create(
                id=event.aggregate_id, order_id=d["order_id"], status=status,
                expires_at=d["expires_at"], reason="", version=event.version,
                created_at=event.created_at, updated_at=event.created_at,
            )
            ReservationLine.objects.bulk_create(
                ReservationLine(id=line_id(reservation.id, line["sku"]), reservation=reservation,
                                sku=line["sku"], quantity=line["quantity"])
                for line in d["lines"]
            )
        else:
            Reservation.objects.filter(id=event.aggregate_id).update(
                status=status, reason=reason, version=event.version,
                updated_at=event.created_at,
            )
        # Lines are stored sorted by sku: counters change in the same order as the
        # services lock them, so these updates never deadlock with a reservation.
        for line in sorted(d["lines"], key=lambda x: x["sku"]):
            qty = line["quantity"]
            total_delta, reserved_delta = total_sign * qty, reserved_sign * qty
            if total_delta or reserved_delta:
                InventoryItem.objects.filter(sku=line["sku"]).update(
                    total=F("total") + total_delta, reserved=F("reserved") + reserved_delta,
                    updated_at=event.created_at,
                )
            if progress:
                column, sign = progress.lstrip("-"), -1 if progress.startswith("-") else 1
                ReservationLine.objects.filter(
                    id=line_id(event.aggregate_id, line["sku"])).update(
                    **{column: F(column) + sign * qty})
            self._movement(event, line["sku"], kind, qty, total_delta=total_delta,
                           reserved_delta=reserved_delta, reason=reason,
                           reservation_id=event.aggregate_id, order_id=d["order_id"])

    def _movement(self, event: RecordedEvent, sku: str, kind: str, quantity: int, *,
                  total_delta: int = 0, reserved_delta: int = 0, reason: str = "",
                  reservation_id=None, order_id=None) -> None:
        StockMovement.objects.create(
            id=movement_id(event.id, sku), event_id=event.id, position=event.position,
            sku=sku, kind=kind, quantity=quantity, total_delta=total_delta,
            reserved_delta=reserved_delta, reason=reason or "",
            reservation_id=reservation_id, order_id=order_id,
            actor=event.metadata.get("actor"), created_at=event.created_at,
        )
