"""Inventory event types and stream ids.

`StockItem` stream (one per sku): ItemCreated, ProductUpdated, StockSettingsChanged,
StockReceived, StockAdjusted, LowStockReached (a reservation or adjustment made `available`
fall from above `low_stock_threshold` to at or below it; a fact for notifications).
`Reservation` stream (one per reservation, i.e. per order): StockReserved,
ReservationConfirmed, ReservationFulfilled, ReservationReleased, ReservationExpired,
ReservationRestocked, and per line (split shipments, returns): ReservationLinesFulfilled,
ReservationLinesUnfulfilled, ReservationLinesRestocked, each with the `reference` (shipment
or return id) that makes it idempotent and the reservation's `status` after it.

Event data is JSON: quantities as ints, money as 2-place strings, ids as strings."""

import uuid

STOCK_ITEM = "StockItem"
RESERVATION = "Reservation"

ITEM_CREATED = "ItemCreated"
PRODUCT_UPDATED = "ProductUpdated"
STOCK_SETTINGS_CHANGED = "StockSettingsChanged"
STOCK_RECEIVED = "StockReceived"
STOCK_ADJUSTED = "StockAdjusted"
LOW_STOCK_REACHED = "LowStockReached"

STOCK_RESERVED = "StockReserved"
RESERVATION_CONFIRMED = "ReservationConfirmed"
RESERVATION_FULFILLED = "ReservationFulfilled"
RESERVATION_RELEASED = "ReservationReleased"
RESERVATION_EXPIRED = "ReservationExpired"
RESERVATION_RESTOCKED = "ReservationRestocked"
RESERVATION_LINES_FULFILLED = "ReservationLinesFulfilled"
RESERVATION_LINES_UNFULFILLED = "ReservationLinesUnfulfilled"
RESERVATION_LINES_RESTOCKED = "ReservationLinesRestocked"

STOCK_ITEM_EVENTS = frozenset({ITEM_CREATED, PRODUCT_UPDATED, STOCK_SETTINGS_CHANGED,
                               STOCK_RECEIVED, STOCK_ADJUSTED, LOW_STOCK_REACHED})
RESERVATION_EVENTS = frozenset({STOCK_RESERVED, RESERVATION_CONFIRMED, RESERVATION_FULFILLED,
                                RESERVATION_RELEASED, RESERVATION_EXPIRED,
                                RESERVATION_RESTOCKED, RESERVATION_LINES_FULFILLED,
                                RESERVATION_LINES_UNFULFILLED, RESERVATION_LINES_RESTOCKED})

# Fixed namespaces: ids derived from them are stable across machines and replays.
_SKU_NAMESPACE = uuid.UUID("6f1c2a52-3d0e-4c55-9a43-2b8f1f0e7a11")
_RESERVATION_NAMESPACE = uuid.UUID("0b7d9e4c-81a2-4f3b-b6d5-5c9e2a7f3d20")


def stock_item_id(sku: str) -> uuid.UUID:
    """The sku's stream id. Deterministic, so creating a sku twice collides on version 1
    of the same stream instead of making two items."""
    return uuid.uuid5(_SKU_NAMESPACE, sku)


def reservation_id(order_id: uuid.UUID) -> uuid.UUID:
    """One reservation per order: its id derives from the order id, so two concurrent
    reserve calls for one order collide on the same stream (idempotency under races)."""
    return uuid.uuid5(_RESERVATION_NAMESPACE, str(order_id))
