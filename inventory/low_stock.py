"""LowStockReached: recorded on the sku's own stream, in the same transaction, by the
commands that lower `available` (reserve, adjust) when they take it from above the item's
`low_stock_threshold` to at or below it. The command holds the item's row lock, so the
before/after values are exact and the append cannot conflict; a replay re-reads the stored
event (the projection only moves the stream version), so nothing is re-decided."""

from commerce.eventstore.types import NewEvent
from inventory import events as ev


def low_stock_reached(item, *, available_after: int) -> NewEvent | None:
    """The event if this change crosses the threshold downward, else None. `item` holds the
    values from before the change."""
    if not item.available > item.low_stock_threshold >= available_after:
        return None
    return NewEvent(ev.LOW_STOCK_REACHED, {
        "sku": item.sku, "name": item.name, "available": available_after,
        "low_stock_threshold": item.low_stock_threshold,
    })
