"""Reservation commands for many orders at once, for the fulfilment saga's batch steps.

The rules are stock_reserve's and reservation_confirm's (inventory/reservations.py), on the
same aggregate: each order is reserved all or nothing, one short order does not stop the
others, every sku of the batch is locked once, in sku order (the order every reservation
locks in, so batches and single reservations never deadlock), and the events of all orders
go in one append (inventory/projections.py applies them set-wise)."""

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from commerce.core import metrics
from commerce.core.bulk import plain_array_literal
from commerce.core.errors import DomainError, ValidationFailed
from commerce.eventstore import store
from commerce.eventstore.store import StreamAppend
from inventory import events as ev
from inventory.errors import InsufficientStock, ReservationNotFound, UnknownSku
from inventory.low_stock import low_stock_reached
from inventory.models import InventoryItem
from inventory.reservation_aggregate import ReservationAggregate
from inventory.reservations import _clean_reserve_input, _count

Outcome = uuid.UUID | DomainError  # the reservation's id, or why the order got none


def stock_reserve_many(*, orders: dict[uuid.UUID, list[dict]]) -> dict[uuid.UUID, Outcome]:
    """Reserve each order's lines (as stock_reserve does), in the caller's transaction.
    Per order: its reservation id (new, or the one it already had: idempotent), or the
    refusal (ValidationFailed, UnknownSku, InsufficientStock) with nothing reserved for it.
    Orders are served in the given order."""
    outcomes: dict[uuid.UUID, Outcome] = {}
    wanted: dict[uuid.UUID, dict[str, int]] = {}
    for order_id, lines in orders.items():
        try:
            order_uuid, merged, _ = _clean_reserve_input(order_id, lines, None)
        except ValidationFailed as exc:
            outcomes[order_id] = exc
            continue
        wanted[order_uuid] = merged
    already = set(_reservations(list(wanted)))
    for order_id in already:
        outcomes[order_id] = ev.reservation_id(order_id)
        del wanted[order_id]
    if not wanted:
        return outcomes
    expires_at = timezone.now() + timedelta(seconds=settings.RESERVATION_TTL_SECONDS)
    skus = sorted({sku for merged in wanted.values() for sku in merged})
    with transaction.atomic():
        items = {i.sku: i for i in InventoryItem.objects.select_for_update()
                 .filter(sku__in=skus).order_by("sku")}
        available = {sku: item.available for sku, item in items.items()}
        appends = []
        for order_id, merged in wanted.items():
            refusal = _refusal(merged, items, available)
            if refusal is not None:
                outcomes[order_id] = refusal
                continue
            for sku, quantity in merged.items():
                available[sku] -= quantity
            aggregate = ReservationAggregate(ev.reservation_id(order_id))
            aggregate.reserve(order_id=order_id,
                              lines=[{"sku": s, "quantity": merged[s]} for s in sorted(merged)],
                              expires_at=expires_at)
            appends.append(StreamAppend(aggregate.id, ev.RESERVATION, 0,
                                        aggregate.pending_events))
            outcomes[order_id] = aggregate.id
        for sku in skus:  # one LowStockReached per sku the batch took across its threshold
            crossed = sku in items and low_stock_reached(items[sku],
                                                         available_after=available[sku])
            if crossed:
                appends.append(StreamAppend(items[sku].id, ev.STOCK_ITEM, items[sku].version,
                                            [crossed]))
        store.append_many(appends)
        for _ in range(sum(1 for a in appends if a.aggregate_type == ev.RESERVATION)):
            _count("reserve")
    return outcomes


def reservation_confirm_many(*, order_ids: list[uuid.UUID]) -> dict[uuid.UUID, DomainError |
                                                                         None]:
    """Confirm each order's reservation (as reservation_confirm does), in the caller's
    transaction: None when confirmed (or already past it: a repeat), else the refusal."""
    outcomes: dict[uuid.UUID, DomainError | None] = {}
    with transaction.atomic():
        rows = _reservations(order_ids, lock=True)  # order id → reservation id
        loaded = store.load_many(list(rows.values()))
        appends = []
        for order_id in order_ids:
            reservation_id = rows.get(order_id)
            if reservation_id is None:
                outcomes[order_id] = ReservationNotFound(details={"order_id": str(order_id)})
                continue
            aggregate = ReservationAggregate.from_events(reservation_id,
                                                         loaded.get(reservation_id, []))
            try:
                if aggregate.confirm():
                    appends.append(StreamAppend(aggregate.id, ev.RESERVATION,
                                                aggregate.version, aggregate.pending_events))
            except DomainError as exc:
                outcomes[order_id] = exc
                continue
            outcomes[order_id] = None
        store.append_many(appends)
        for _ in appends:
            _count("confirm")
    return outcomes


# Raw SQL: every batch of the saga's reserve and confirm steps asks, and compiling the ORM
# query cost more than running it.
_RESERVATIONS_SQL = ("SELECT order_id, id FROM inventory_reservations "
                     "WHERE order_id = ANY(%s::uuid[]) ORDER BY id")


def _reservations(order_ids: list, *, lock: bool = False) -> dict[uuid.UUID, uuid.UUID]:
    """Order id → reservation id, for the orders that have one; `lock`: their rows locked
    (in id order)."""
    with connection.cursor() as cursor:
        cursor.execute(_RESERVATIONS_SQL + (" FOR UPDATE" if lock else ""),
                       [plain_array_literal(order_ids)])
        return dict(cursor.fetchall())


def _refusal(merged: dict[str, int], items: dict, available: dict) -> DomainError | None:
    unknown = [s for s in sorted(merged) if s not in items]
    if unknown:
        return UnknownSku(f"Unknown sku: {', '.join(unknown)}.", details={"skus": unknown})
    short = [{"sku": s, "requested": merged[s], "available": available[s]}
             for s in sorted(merged) if available[s] < merged[s]]
    if short:
        metrics.STOCK_CONFLICTS.inc()
        return InsufficientStock(details={"lines": short})
    return None
