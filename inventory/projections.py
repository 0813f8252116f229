"""The inventory read models, updated inline with every append and rebuilt by
`replay_events`. This projection is the only writer of the stock counters: services lock
and check, then append; the counter deltas are applied here exactly once, so a replay in
`position` order reproduces exactly the live levels.

One projection owns all inventory tables because reservation events change item counters:
replaying them separately could not reproduce the levels."""

from decimal import Decimal

from django.db import connection
from django.db.models import F

from commerce.core.bulk import array_literal, insert_rows, update_rows
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
# The fulfilment saga's events, applied set-wise by handle_many (they move no line progress).
_SET_WISE = frozenset({ev.STOCK_RESERVED, ev.RESERVATION_CONFIRMED})
_RESERVATION_FIELDS = [f.name for f in Reservation._meta.concrete_fields]
_LINE_FIELDS = [f.name for f in ReservationLine._meta.concrete_fields]
_MOVEMENT_FIELDS = [f.name for f in StockMovement._meta.concrete_fields]


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
    def handle_many(self, events: list[RecordedEvent]) -> None:
        """A batch of saga steps (reservations of many orders): the rows and movements of
        their reservations and confirmations inserted or updated together, and each sku's
        counters moved once by the sum of its deltas, exactly as event by event (the counters
        are sums). Other events, event by event."""
        batch = [e for e in events if e.event_type in _SET_WISE]
        for event in events:
            if event.event_type not in _SET_WISE:
                self.handle(event)
        if not batch:
            return
        created, updated, movements, counters = [], [], [], {}
        for event in batch:
            d = event.data
            kind, status, total_sign, reserved_sign, _ = _RESERVATION_DELTAS[event.event_type]
            reason = d.get("reason", "")
            if event.event_type == ev.STOCK_RESERVED:
                created.append(self._reservation_row(event, status))
            else:
                updated.append(Reservation(id=event.aggregate_id, status=status, reason=reason,
                                           version=event.version, updated_at=event.created_at))
            for line in d["lines"]:
                qty = line["quantity"]
                total_delta, reserved_delta = total_sign * qty, reserved_sign * qty
                if total_delta or reserved_delta:
                    moved = counters.setdefault(line["sku"], [0, 0, event.created_at])
                    moved[0] += total_delta
                    moved[1] += reserved_delta
                    moved[2] = max(moved[2], event.created_at)
                movements.append(self._movement_row(
                    event, line["sku"], kind, qty, total_delta=total_delta,
                    reserved_delta=reserved_delta, reason=reason,
                    reservation_id=event.aggregate_id, order_id=d["order_id"]))
        if created:
            insert_rows(Reservation, created, _RESERVATION_FIELDS)
            insert_rows(ReservationLine, [
                line for event in batch if event.event_type == ev.STOCK_RESERVED
                for line in self._line_rows(event)], _LINE_FIELDS)
        if updated:
            update_rows(Reservation, updated, ["status", "reason", "version", "updated_at"])
        if counters:
            # In sku order, the order the services lock items in: no deadlock.
            skus = sorted(counters)
            with connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE inventory_items AS i SET total = i.total + v.dt, "
                    "reserved = i.reserved + v.dr, updated_at = v.at FROM unnest(%s::varchar[],"
                    " %s::integer[], %s::integer[], %s::timestamptz[]) AS v(sku, dt, dr, at) "
                    "WHERE i.sku = v.sku",
                    [array_literal(column) for column in (
                        skus, [counters[s][0] for s in skus], [counters[s][1] for s in skus],
                        [counters[s][2] for s in skus])])
        insert_rows(StockMovement, movements, _MOVEMENT_FIELDS)

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
            self._reservation_row(event, status).save(force_insert=True)
            ReservationLine.objects.bulk_create(self._line_rows(event))
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

    def _movement(self, event: RecordedEvent, sku: str, kind: str, quantity: int,
                  **fields) -> None:
        self._movement_row(event, sku, kind, quantity, **fields).save(force_insert=True)

    @staticmethod
    def _movement_row(event: RecordedEvent, sku: str, kind: str, quantity: int, *,
                      total_delta: int = 0, reserved_delta: int = 0, reason: str = "",
                      reservation_id=None, order_id=None) -> StockMovement:
        return StockMovement(
            id=movement_id(event.id, sku), event_id=event.id, position=event.position,
            sku=sku, kind=kind, quantity=quantity, total_delta=total_delta,
            reserved_delta=reserved_delta, reason=reason or "",
            reservation_id=reservation_id, order_id=order_id,
            actor=event.metadata.get("actor"), created_at=event.created_at,
        )

    @staticmethod
    def _reservation_row(event: RecordedEvent, status: str) -> Reservation:
        return Reservation(
            id=event.aggregate_id, order_id=event.data["order_id"], status=status,
            expires_at=event.data["expires_at"], reason="", version=event.version,
            created_at=event.created_at, updated_at=event.created_at,
        )

    @staticmethod
    def _line_rows(event: RecordedEvent) -> list[ReservationLine]:
        return [ReservationLine(id=line_id(event.aggregate_id, line["sku"]),
                                reservation_id=event.aggregate_id, sku=line["sku"],
                                quantity=line["quantity"])
                for line in event.data["lines"]]
