"""Cart commands. Every write is one Lua script in Redis (atomic); the catalog in PostgreSQL
is only read, to validate skus and record the price a line was added at."""

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings

from cart import events, store
from cart.refs import CartRef, cart_ref_for_token, cart_ref_for_user, cart_ref_new_guest
from cart.selectors import CENTS
from commerce.core.errors import DomainError, ErrorCode, NotFound, ValidationFailed
from inventory.selectors import catalog_lookup


class CartLimitExceeded(DomainError):
    code = ErrorCode.CART_LIMIT_EXCEEDED
    http_status = 400
    default_message = "The cart limit was exceeded."


def _catalog_price(sku: str) -> str:
    """The current catalog price of an active sku, or a 400 naming the field."""
    entry = catalog_lookup(skus=[sku]).get(sku)
    if entry is None:
        raise ValidationFailed(f"Unknown sku {sku!r}.", code=ErrorCode.UNKNOWN_SKU,
                               details={"sku": [f"Unknown sku {sku!r}."]})
    if not entry.active:
        raise ValidationFailed(f"Sku {sku!r} is not available.", code=ErrorCode.INACTIVE_SKU,
                               details={"sku": [f"Sku {sku!r} is not available."]})
    return str(Decimal(entry.unit_price).quantize(CENTS))


def cart_guest_create() -> CartRef:
    """A new, empty guest cart; the returned ref carries its token (shown once)."""
    ref = cart_ref_new_guest()
    store.create(ref.cart_id, owner=ref.owner)
    events.cart_event_record(event=events.CREATED, cart_id=ref.cart_id, owner=ref.owner)
    return ref


def cart_item_add(*, cart: CartRef, sku: str, quantity: int) -> int:
    """Add `quantity` units of `sku` (adding to an existing line). Returns the line's new
    quantity. Refuses (changing nothing) past CART_MAX_LINES / CART_MAX_QUANTITY_PER_LINE."""
    if quantity < 1:
        raise ValidationFailed(details={"quantity": ["Must be at least 1."]})
    price = _catalog_price(sku)
    max_lines, max_qty = settings.CART_MAX_LINES, settings.CART_MAX_QUANTITY_PER_LINE
    status, after, created = store.add(
        cart.cart_id, owner=cart.owner, must_exist=cart.must_exist, sku=sku,
        quantity=quantity, price=price, max_lines=max_lines, max_quantity=max_qty,
    )
    if status == "missing":
        raise NotFound("Cart not found.")
    if status == "too_many_lines":
        raise CartLimitExceeded(
            f"A cart holds at most {max_lines} different items.",
            details={"sku": [f"The cart already has {max_lines} lines."],
                     "max_lines": max_lines},
        )
    if status == "too_much_quantity":
        raise CartLimitExceeded(
            f"At most {max_qty} units of one item per cart.",
            details={"quantity": [f"At most {max_qty} per line; the cart has {after}."],
                     "max_quantity": max_qty, "in_cart": after},
        )
    if created:
        events.cart_event_record(event=events.CREATED, cart_id=cart.cart_id, owner=cart.owner)
    events.cart_event_record(event=events.ITEM_ADDED, cart_id=cart.cart_id, sku=sku,
                             quantity=quantity, unit_price=price)
    return after


def cart_item_set_quantity(*, cart: CartRef, sku: str, quantity: int) -> None:
    """Set a line's quantity; 0 removes the line. 404 when the cart has no such line."""
    max_qty = settings.CART_MAX_QUANTITY_PER_LINE
    if quantity < 0:
        raise ValidationFailed(details={"quantity": ["Must be 0 or more."]})
    if quantity > max_qty:
        raise CartLimitExceeded(f"At most {max_qty} units of one item per cart.",
                                details={"quantity": [f"At most {max_qty} per line."],
                                         "max_quantity": max_qty})
    status, previous = store.set_quantity(cart.cart_id, sku=sku, quantity=quantity)
    if status in ("missing", "no_line"):
        raise NotFound(f"No line for sku {sku!r} in the cart.")
    if quantity == 0:
        events.cart_event_record(event=events.ITEM_REMOVED, cart_id=cart.cart_id, sku=sku,
                                 quantity=previous)
    else:
        events.cart_event_record(event=events.ITEM_UPDATED, cart_id=cart.cart_id, sku=sku,
                                 quantity=quantity, previous=previous)


def cart_item_remove(*, cart: CartRef, sku: str) -> None:
    cart_item_set_quantity(cart=cart, sku=sku, quantity=0)


def cart_clear(*, cart: CartRef) -> int:
    """Remove every line (a guest cart and its token stay valid). Returns lines removed."""
    status, removed = store.clear(cart.cart_id)
    if status == "missing" and cart.must_exist:
        raise NotFound("Cart not found.")
    if removed:
        events.cart_event_record(event=events.CLEARED, cart_id=cart.cart_id, lines=removed)
    return removed


@dataclass(frozen=True)
class MergeResult:
    cart: CartRef
    merged: list[str]
    dropped: list[str]  # guest lines that did not fit under CART_MAX_LINES


def cart_merge(*, user, guest_token: str) -> MergeResult:
    """Move a guest cart into the customer's: quantities add (capped per line), lines past
    the line limit are dropped and reported, and the guest cart (and its token) is gone.
    Retry-safe: repeating the merge (same token, same customer) answers the same report and
    changes nothing."""
    guest = cart_ref_for_token(guest_token)
    target = cart_ref_for_user(user)
    status, created, merged, dropped = store.merge(
        guest_id=guest.cart_id, into_id=target.cart_id, owner=target.owner,
        max_lines=settings.CART_MAX_LINES, max_quantity=settings.CART_MAX_QUANTITY_PER_LINE,
    )
    if status == "missing":
        raise NotFound("Cart not found.")
    if status == "replayed":
        return MergeResult(cart=target, merged=merged, dropped=dropped)
    if created:
        events.cart_event_record(event=events.CREATED, cart_id=target.cart_id,
                                 owner=target.owner)
    events.cart_event_record(event=events.MERGED, cart_id=target.cart_id,
                             guest_cart=guest.cart_id, lines=len(merged), dropped=len(dropped))
    return MergeResult(cart=target, merged=merged, dropped=dropped)


def cart_record_abandoned(*, now: float | None = None, batch: int = 500) -> int:
    """Record every cart that expired while holding items (beat task `cart.record_abandoned`).
    Each expired cart is claimed atomically in Redis, so overlapping runs count it once."""
    total = 0
    while True:
        gone = store.abandoned_sweep(now=now, batch=batch)
        for cart_id in gone:
            events.cart_event_record(event=events.ABANDONED, cart_id=cart_id)
        total += len(gone)
        if len(gone) < batch:
            return total
