"""Inventory commands: catalog and stock items. Reservation commands live in
inventory/reservations.py and are re-exported here (the contract's `inventory.services.*`).

Every command is one transaction: lock what the decision depends on, check, append events;
the inline projection (inventory/projections.py) applies the changes to the read models."""

import uuid
from decimal import Decimal

from django.db import transaction

from commerce.core.errors import ConcurrencyError, ValidationFailed
from commerce.eventstore import store
from commerce.eventstore.types import NewEvent
from inventory import events as ev
from inventory import selectors
from inventory.errors import DuplicateSku, InsufficientStock, ItemNotFound
from inventory.low_stock import low_stock_reached
from inventory.models import InventoryItem
from inventory.reservation_lines import (  # noqa: F401  (re-exported: split shipments, returns)
    reservation_fulfill_lines,
    reservation_restock_lines,
    reservation_unfulfill_lines,
)
from inventory.reservations import (  # noqa: F401  (re-exported: the contract's entry points)
    reservation_confirm,
    reservation_expire,
    reservation_fulfill,
    reservation_release,
    reservation_restock,
    reservations_expire_due,
    stock_reserve,
)
from inventory.selectors import Drift
from inventory.validation import (
    MAX_QUANTITY,
    MEASURES,
    Errors,
    clean_currency,
    clean_int,
    clean_measures,
    clean_price,
    clean_product_id,
    clean_sku,
    clean_text,
)


def item_create(
    *, sku: str, product_id: str, name: str, price: Decimal | str,
    currency: str = "USD", total_quantity: int = 0, low_stock_threshold: int = 5,
    reorder_point: int = 10, reorder_quantity: int = 50, active: bool = True,
    weight_kg=None, length_cm=None, width_cm=None, height_cm=None,
) -> InventoryItem:
    """Create a catalog entry and its stock item (ItemCreated, then StockReceived for the
    initial quantity so the first units have an audit trail too). Weight and dimensions
    (one packed unit, for shipping) are optional."""
    errors = Errors()
    sku = clean_sku(sku, errors)
    product_id = clean_product_id(product_id, errors)
    name = clean_text(name, errors, "name", max_length=200)
    unit_price = clean_price(price, errors)
    currency = clean_currency(currency, errors)
    clean_int(total_quantity, errors, "total_quantity", minimum=0)
    clean_int(low_stock_threshold, errors, "low_stock_threshold", minimum=0)
    clean_int(reorder_point, errors, "reorder_point", minimum=0)
    clean_int(reorder_quantity, errors, "reorder_quantity", minimum=0)
    if not isinstance(active, bool):
        errors.add("active", "Must be true or false.")
    measures = clean_measures(errors, weight_kg=weight_kg, length_cm=length_cm,
                              width_cm=width_cm, height_cm=height_cm)
    if errors:
        raise ValidationFailed(details=errors)

    new_events = [NewEvent(ev.ITEM_CREATED, {
        "sku": sku, "product_id": product_id, "name": name,
        "unit_price": str(unit_price), "currency": currency, "active": active,
        "low_stock_threshold": low_stock_threshold, "reorder_point": reorder_point,
        "reorder_quantity": reorder_quantity,
        # only the measures given (older events have none: the projection reads .get)
        **{k: str(v) for k, v in measures.items() if v is not None},
    })]
    if total_quantity:
        new_events.append(NewEvent(ev.STOCK_RECEIVED, {
            "sku": sku, "quantity": total_quantity, "reason": "initial stock",
        }))
    item_id = ev.stock_item_id(sku)
    with transaction.atomic():
        try:
            store.append(aggregate_id=item_id, aggregate_type=ev.STOCK_ITEM,
                         expected_version=0, events=new_events)
        except ConcurrencyError as exc:
            raise DuplicateSku(details={"sku": [DuplicateSku.default_message]}) from exc
        return _item(item_id)


def item_update(
    *, sku: str, name: str | None = None, price: Decimal | str | None = None,
    currency: str | None = None, active: bool | None = None,
    low_stock_threshold: int | None = None, reorder_point: int | None = None,
    reorder_quantity: int | None = None, weight_kg=None, length_cm=None, width_cm=None,
    height_cm=None,
) -> InventoryItem:
    """Change catalog fields (ProductUpdated) and/or stock settings (StockSettingsChanged).
    Only fields that really change are recorded; no change records nothing."""
    errors = Errors()
    product_changes: dict = {}
    settings_changes: dict = {}
    if name is not None:
        product_changes["name"] = clean_text(name, errors, "name", max_length=200)
    if price is not None:
        product_changes["unit_price"] = clean_price(price, errors)
    if currency is not None:
        product_changes["currency"] = clean_currency(currency, errors)
    if active is not None:
        if not isinstance(active, bool):
            errors.add("active", "Must be true or false.")
        product_changes["active"] = active
    product_changes.update(
        (k, v) for k, v in clean_measures(errors, weight_kg=weight_kg, length_cm=length_cm,
                                          width_cm=width_cm, height_cm=height_cm).items()
        if v is not None)
    for field, value in (("low_stock_threshold", low_stock_threshold),
                         ("reorder_point", reorder_point),
                         ("reorder_quantity", reorder_quantity)):
        if value is not None:
            settings_changes[field] = clean_int(value, errors, field, minimum=0)
    if errors:
        raise ValidationFailed(details=errors)

    with transaction.atomic():
        item = _lock_item(sku)
        product = item.catalog
        product_changes = {k: v for k, v in product_changes.items() if getattr(product, k) != v}
        settings_changes = {k: v for k, v in settings_changes.items() if getattr(item, k) != v}
        new_events = []
        if product_changes:
            for field in ("unit_price", *MEASURES):
                if field in product_changes:
                    product_changes[field] = str(product_changes[field])
            new_events.append(NewEvent(ev.PRODUCT_UPDATED, {"sku": item.sku, **product_changes}))
        if settings_changes:
            new_events.append(NewEvent(ev.STOCK_SETTINGS_CHANGED,
                                       {"sku": item.sku, **settings_changes}))
        if new_events:
            store.append(aggregate_id=item.id, aggregate_type=ev.STOCK_ITEM,
                         expected_version=item.version, events=new_events)
        return _item(item.id)


def product_update(*, sku: str, price: Decimal | str | None = None, active: bool | None = None,
                   name: str | None = None) -> InventoryItem:
    """The catalog part of item_update (the contract's entry point for prices and
    activation)."""
    return item_update(sku=sku, price=price, active=active, name=name)


def stock_receive(*, sku: str, quantity: int, reason: str = "") -> InventoryItem:
    """Goods arrived: total += quantity."""
    errors = Errors()
    clean_int(quantity, errors, "quantity", minimum=1)
    reason = clean_text(reason, errors, "reason", max_length=200, required=False)
    if errors:
        raise ValidationFailed(details=errors)
    with transaction.atomic():
        item = _lock_item(sku)
        if item.total + quantity > MAX_QUANTITY:
            raise ValidationFailed(details={"quantity": [f"Total would exceed {MAX_QUANTITY}."]})
        store.append(aggregate_id=item.id, aggregate_type=ev.STOCK_ITEM,
                     expected_version=item.version,
                     events=[NewEvent(ev.STOCK_RECEIVED,
                                      {"sku": item.sku, "quantity": quantity, "reason": reason})])
        return _item(item.id)


def stock_adjust(*, sku: str, delta: int, reason: str) -> InventoryItem:
    """A correction after a count, damage, loss...: total += delta (delta may be negative,
    but never below what is reserved)."""
    errors = Errors()
    clean_int(delta, errors, "delta", minimum=-MAX_QUANTITY)
    if isinstance(delta, int) and not isinstance(delta, bool) and delta == 0:
        errors.add("delta", "Must not be zero.")
    reason = clean_text(reason, errors, "reason", max_length=200)
    if errors:
        raise ValidationFailed(details=errors)
    with transaction.atomic():
        item = _lock_item(sku)
        if item.total + delta < item.reserved:
            raise InsufficientStock(
                "The adjustment would take stock below what is reserved.",
                details={"lines": [{"sku": item.sku, "requested": -delta,
                                    "available": item.available}]},
            )
        if item.total + delta > MAX_QUANTITY:
            raise ValidationFailed(details={"delta": [f"Total would exceed {MAX_QUANTITY}."]})
        events = [NewEvent(ev.STOCK_ADJUSTED, {"sku": item.sku, "delta": delta, "reason": reason})]
        crossed = low_stock_reached(item, available_after=item.available + delta)
        if crossed is not None:
            events.append(crossed)
        store.append(aggregate_id=item.id, aggregate_type=ev.STOCK_ITEM,
                     expected_version=item.version, events=events)
        return _item(item.id)


def stock_resync(*, skus: list[str] | None = None) -> list[Drift]:
    """Repair counter drift (`inventory_verify --fix`): lock the drifting items in sku
    order, recompute under the locks and set the counters to what the facts say. Writes the
    read model directly and records no event: no stock moved, the row had just stopped
    agreeing with the events (a replay would produce the repaired values)."""
    with transaction.atomic():
        affected = sorted({d.sku for d in selectors.stock_drift(skus=skus)})
        if not affected:
            return []
        list(InventoryItem.objects.select_for_update().filter(sku__in=affected).order_by("sku")
             .values_list("id", flat=True))
        drifts = selectors.stock_drift(skus=affected)  # again, now that nothing can move
        fixes: dict[str, dict[str, int]] = {}
        for drift in drifts:
            fixes.setdefault(drift.sku, {})[drift.field] = drift.expected
        for sku, values in fixes.items():
            InventoryItem.objects.filter(sku=sku).update(**values)
        return drifts


def _lock_item(sku: str) -> InventoryItem:
    """Lock the sku's row: serialises every command on the sku's stream, so appends never
    race on its version and checks on its counters hold until commit."""
    if not isinstance(sku, str):
        raise ItemNotFound()
    item = (InventoryItem.objects.select_for_update(of=("self",)).select_related("catalog")
            .filter(sku=sku).first())
    if item is None:
        raise ItemNotFound(details={"sku": sku})
    return item


def _item(item_id: uuid.UUID) -> InventoryItem:
    return InventoryItem.objects.select_related("catalog").get(id=item_id)
