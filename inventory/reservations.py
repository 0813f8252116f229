"""Reservation commands: reserve → confirm → fulfill, release, expire, restock.

Concurrency (ARCHITECTURE §5):
- stock_reserve locks every item of the order with SELECT … FOR UPDATE ordered by sku, so
  two multi-line orders can never wait on each other in a cycle, checks availability under
  those locks and appends StockReserved to the reservation's own stream. The inline
  projection then applies `reserved += n` exactly once; the CHECK constraints on
  inventory_items are the last line of defence.
- Lifecycle commands lock the reservation row first (one command per reservation at a
  time, so repeats are clean no-ops instead of version conflicts); their counter updates
  run in sku order, the same order reservations lock in.
- One reservation per order: its id derives from the order id, so two concurrent reserve
  calls for one order collide on version 1 of the same stream and the loser returns the
  winner's reservation."""

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from commerce.core import metrics
from commerce.core.errors import ConcurrencyError, ValidationFailed
from commerce.eventstore import store
from inventory import events as ev
from inventory.errors import (
    InsufficientStock,
    ReservationNotFound,
    UnknownSku,
)
from inventory.low_stock import low_stock_reached
from inventory.models import InventoryItem, Reservation
from inventory.reservation_aggregate import ReservationAggregate, repository
from inventory.validation import MAX_QUANTITY, Errors, clean_int, clean_text, clean_uuid

Status = Reservation.Status
MAX_TTL_SECONDS = 7 * 24 * 3600
MAX_LINES = 500


def stock_reserve(*, order_id: uuid.UUID | str, lines: list[dict],
                  ttl_seconds: int | None = None) -> Reservation:
    """Reserve every line of an order, all or nothing, until now + ttl_seconds (default
    settings.RESERVATION_TTL_SECONDS). Lines naming one sku twice are summed. Idempotent:
    an order that already has a reservation gets that reservation back, unchanged."""
    order_uuid, merged, ttl = _clean_reserve_input(order_id, lines, ttl_seconds)
    existing = _reservation_for_order(order_uuid)
    if existing is not None:
        return existing
    skus = sorted(merged)
    with transaction.atomic():
        # The fixed lock order (by sku) is what makes concurrent multi-line orders
        # deadlock-free; the locks also make the availability check below hold until commit.
        items = {i.sku: i for i in InventoryItem.objects.select_for_update()
                 .filter(sku__in=skus).order_by("sku")}
        unknown = [s for s in skus if s not in items]
        short = [{"sku": s, "requested": merged[s], "available": items[s].available}
                 for s in skus if s in items and items[s].available < merged[s]]
        if (unknown or short) and (existing := _reservation_for_order(order_uuid)):
            # A concurrent call for this same order committed while we waited for the
            # locks, and its units are what we now see missing: answer with it.
            return existing
        if unknown:
            raise UnknownSku(
                f"Unknown sku: {', '.join(unknown)}.",
                details={"lines": [{"sku": ["Unknown sku."]} if line["sku"] in unknown else {}
                                   for line in lines], "skus": unknown},
            )
        if short:
            metrics.STOCK_CONFLICTS.inc()
            raise InsufficientStock(details={"lines": short})
        aggregate = ReservationAggregate(ev.reservation_id(order_uuid))
        aggregate.reserve(order_id=order_uuid,
                          lines=[{"sku": s, "quantity": merged[s]} for s in skus],
                          expires_at=timezone.now() + timedelta(seconds=ttl))
        try:
            repository.save(aggregate)
        except ConcurrencyError:
            # Another call reserved for this order first (and has committed: the unique
            # index made us wait for it). Ours wrote nothing; answer with theirs.
            pass
        else:
            _count("reserve")
            for sku in skus:
                crossed = low_stock_reached(items[sku],
                                            available_after=items[sku].available - merged[sku])
                if crossed is not None:
                    store.append(aggregate_id=items[sku].id, aggregate_type=ev.STOCK_ITEM,
                                 expected_version=items[sku].version, events=[crossed])
    # Read back after commit: the hot rows' locks are not held for it.
    return _reservation_for_order(order_uuid)


def reservation_confirm(*, order_id: uuid.UUID | str) -> Reservation:
    return _transition(order_id, "confirm", lambda agg: agg.confirm())


def reservation_fulfill(*, order_id: uuid.UUID | str) -> Reservation:
    """Stock leaves the warehouse: total and reserved both drop by each line."""
    return _transition(order_id, "fulfill", lambda agg: agg.fulfill())


def reservation_release(*, order_id: uuid.UUID | str, reason: str,
                        order_ending: bool = False) -> Reservation:
    """Give held stock back (payment failed, order cancelled before shipping). A confirmed
    reservation is released only when `order_ending`: the order's own cancellation or
    failure is releasing it (sagas); anyone else gets InvalidReservationState (409)."""
    reason = _clean_reason(reason)
    return _transition(order_id, "release",
                       lambda agg: agg.release(reason, order_ending=order_ending))


def reservation_restock(*, order_id: uuid.UUID | str, reason: str) -> Reservation:
    """Put fulfilled units back into stock (cancellation or return after shipping)."""
    reason = _clean_reason(reason)
    return _transition(order_id, "restock", lambda agg: agg.restock(reason))


def reservation_expire(*, order_id: uuid.UUID | str, now: datetime | None = None) -> bool:
    """Release the order's reservation if it is still only reserved and its deadline has
    passed (checked again under the lock: it may have been confirmed meanwhile). Returns
    whether it expired now."""
    now = now or timezone.now()
    with transaction.atomic():
        row = _lock_reservation(order_id)
        if row.status != Status.RESERVED or row.expires_at > now:
            return False
        aggregate = repository.get(row.id)
        if not aggregate.expire():
            return False
        repository.save(aggregate)
        _count("expire")
        transaction.on_commit(metrics.RESERVATION_EXPIRIES.inc, robust=True)
        return True


def reservations_expire_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """Expire up to `limit` overdue reservations, each in its own transaction (one bad row
    never blocks the rest). Returns how many expired. Idempotent: safe to run twice."""
    now = now or timezone.now()
    due = list(Reservation.objects.filter(status=Status.RESERVED, expires_at__lte=now)
               .order_by("expires_at").values_list("order_id", flat=True)[:limit])
    return sum(1 for order_id in due if reservation_expire(order_id=order_id, now=now))


# --- helpers -----------------------------------------------------------------------------
def _transition(order_id, action: str, command: Callable[[ReservationAggregate], bool]
                ) -> Reservation:
    with transaction.atomic():
        row = _lock_reservation(order_id)
        aggregate = repository.get(row.id)
        if command(aggregate):
            repository.save(aggregate)
            _count(action)
        return _reservation_for_order(row.order_id)


def _lock_reservation(order_id) -> Reservation:
    errors = Errors()
    order_uuid = clean_uuid(order_id, errors, "order_id")
    if errors:
        raise ValidationFailed(details=errors)
    row = Reservation.objects.select_for_update().filter(order_id=order_uuid).first()
    if row is None:
        raise ReservationNotFound(details={"order_id": str(order_uuid)})
    return row


def _reservation_for_order(order_id: uuid.UUID) -> Reservation | None:
    return Reservation.objects.prefetch_related("lines").filter(order_id=order_id).first()


def _count(action: str) -> None:
    transaction.on_commit(lambda: metrics.RESERVATIONS.labels(action=action).inc(),
                          robust=True)


def _clean_reason(reason) -> str:
    errors = Errors()
    reason = clean_text(reason, errors, "reason", max_length=200, required=False)
    if errors:
        raise ValidationFailed(details=errors)
    return reason


def _clean_reserve_input(order_id, lines, ttl_seconds) -> tuple[uuid.UUID, dict[str, int], int]:
    errors = Errors()
    order_uuid = clean_uuid(order_id, errors, "order_id")
    if ttl_seconds is None:
        ttl = settings.RESERVATION_TTL_SECONDS
    else:
        ttl = clean_int(ttl_seconds, errors, "ttl_seconds", minimum=1, maximum=MAX_TTL_SECONDS)
    merged: dict[str, int] = {}
    if not isinstance(lines, list | tuple) or not lines:
        errors.add("lines", "At least one line is required.")
    elif len(lines) > MAX_LINES:
        errors.add("lines", f"At most {MAX_LINES} lines.")
    else:
        line_errors = []
        for line in lines:
            if not isinstance(line, dict):
                line_errors.append({"non_field_errors": ["A line must be an object."]})
                continue
            e = Errors()
            sku = line.get("sku")
            if not isinstance(sku, str) or not sku:
                e.add("sku", "This field is required.")
            quantity = clean_int(line.get("quantity"), e, "quantity", minimum=1)
            if not e:
                merged[sku] = merged.get(sku, 0) + quantity
            line_errors.append(dict(e))
        if any(line_errors):
            errors["lines"] = line_errors
        elif any(q > MAX_QUANTITY for q in merged.values()):
            errors.add("lines", f"At most {MAX_QUANTITY} units of one sku.")
    if errors:
        raise ValidationFailed(details=errors)
    return order_uuid, merged, ttl
