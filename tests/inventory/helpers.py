"""Small assertions shared by the inventory tests."""

from commerce.eventstore.models import Event
from inventory.models import InventoryItem, Reservation, StockMovement


def levels(sku: str) -> tuple[int, int, int]:
    """(total, reserved, available) of one sku, read fresh from the database."""
    item = InventoryItem.objects.get(sku=sku)
    return item.total, item.reserved, item.available


def write_counts() -> tuple[int, int, int, int]:
    """Everything a refused command must leave untouched."""
    return (Event.objects.count(), Reservation.objects.count(), StockMovement.objects.count(),
            sum(InventoryItem.objects.values_list("reserved", flat=True)))
