"""Per-line reservation commands (re-exported by inventory.services): split shipments take
some units of some lines out of the warehouse, a cancelled shipment brings them back to
the order's reservation, a received return puts shipped units back into stock.

Each is idempotent by its `reference` (the shipment or return id): repeating it is a no-op.
They lock the reservation row like every other reservation command, and the inline
projection moves the item counters in sku order."""

import uuid

from commerce.core.errors import ValidationFailed
from inventory.models import Reservation
from inventory.reservations import _clean_reason, _transition
from inventory.validation import MAX_QUANTITY, Errors, clean_int, clean_text


def reservation_fulfill_lines(*, order_id: uuid.UUID | str, lines: list[dict],
                              reference: str) -> Reservation:
    """`lines` [{sku, quantity}] leave the warehouse: total and reserved both drop by them.
    The reservation becomes partially_fulfilled, or fulfilled once nothing is held."""
    quantities, reference = _clean(lines, reference)
    return _transition(order_id, "fulfill",
                       lambda agg: agg.fulfill_lines(quantities, reference=reference))


def reservation_unfulfill_lines(*, order_id: uuid.UUID | str, reference: str,
                                reason: str) -> Reservation:
    """Undo the fulfilment recorded under `reference` (a shipment cancelled before it left):
    its units are back in stock and held for the order again."""
    reference = _clean_reference(reference)
    reason = _clean_reason(reason)
    return _transition(order_id, "unfulfill",
                       lambda agg: agg.unfulfill_lines(reference=reference, reason=reason))


def reservation_restock_lines(*, order_id: uuid.UUID | str, lines: list[dict], reference: str,
                              reason: str) -> Reservation:
    """Shipped units of `lines` came back sellable (a received return): total rises by them."""
    quantities, reference = _clean(lines, reference)
    reason = _clean_reason(reason)
    return _transition(order_id, "restock", lambda agg: agg.restock_lines(
        quantities, reference=reference, reason=reason))


def _clean(lines, reference) -> tuple[dict[str, int], str]:
    errors = Errors()
    quantities: dict[str, int] = {}
    if not isinstance(lines, list | tuple) or not lines:
        errors.add("lines", "At least one line is required.")
    else:
        for line in lines:
            sku = line.get("sku") if isinstance(line, dict) else None
            if not isinstance(sku, str) or not sku:
                errors.add("lines", "Each line needs a sku.")
                continue
            quantity = clean_int(line.get("quantity"), errors, "quantity", minimum=1,
                                 maximum=MAX_QUANTITY)
            quantities[sku] = quantities.get(sku, 0) + (quantity or 0)
    reference = clean_text(reference, errors, "reference", max_length=100)
    if errors:
        raise ValidationFailed(details=errors)
    return quantities, reference


def _clean_reference(reference) -> str:
    errors = Errors()
    reference = clean_text(reference, errors, "reference", max_length=100)
    if errors:
        raise ValidationFailed(details=errors)
    return reference
