"""Reading a cart: stored lines joined with the current catalog (price, availability)."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from cart import store
from cart.refs import CartRef
from commerce.core.errors import NotFound
from inventory.selectors import catalog_lookup

CENTS = Decimal("0.01")

# Warning codes on a line (GET /cart/ and checkout refusals).
UNAVAILABLE = "unavailable"  # no longer in the catalog, or deactivated
INSUFFICIENT_STOCK = "insufficient_stock"  # fewer units available than in the cart
PRICE_CHANGED = "price_changed"  # catalog price differs from the price when added


@dataclass(frozen=True)
class CartLine:
    sku: str
    name: str
    quantity: int
    unit_price: Decimal | None
    line_total: Decimal | None
    currency: str | None
    active: bool
    available: int
    price_when_added: Decimal | None


@dataclass(frozen=True)
class CartView:
    ref: CartRef
    exists: bool
    lines: list[CartLine] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)
    subtotal: Decimal = Decimal("0.00")
    currency: str | None = None
    checkout_id: str = ""
    expires_at: datetime | None = None

    @property
    def item_count(self) -> int:
        return sum(line.quantity for line in self.lines)


def _money(value) -> Decimal:
    return Decimal(value).quantize(CENTS)


def cart_get(*, cart: CartRef) -> CartView:
    """The cart with current catalog prices. Reading slides the expiry. A guest token that
    names no cart is a 404; a customer without a cart gets an empty one."""
    data = store.read(cart.cart_id)
    if not data.exists and cart.must_exist:
        raise NotFound("Cart not found.")
    return cart_view_build(cart=cart, data=data)


def cart_view_build(*, cart: CartRef, data: store.CartData) -> CartView:
    catalog = catalog_lookup(skus=list(data.lines)) if data.lines else {}
    lines, warnings = [], []
    subtotal = Decimal("0.00")
    currency = None
    for sku, quantity in data.lines.items():
        entry = catalog.get(sku)
        added = data.prices.get(sku)
        price_when_added = _money(added) if added else None
        if entry is None or not entry.active:
            lines.append(CartLine(sku=sku, name=entry.name if entry else "", quantity=quantity,
                                  unit_price=None, line_total=None, currency=None,
                                  active=False, available=0,
                                  price_when_added=price_when_added))
            warnings.append({"sku": sku, "code": UNAVAILABLE,
                             "message": "This item is no longer available."})
            continue
        price = _money(entry.unit_price)
        total = (price * quantity).quantize(CENTS)
        subtotal += total
        currency = currency or entry.currency
        lines.append(CartLine(sku=sku, name=entry.name, quantity=quantity, unit_price=price,
                              line_total=total, currency=entry.currency, active=True,
                              available=entry.available, price_when_added=price_when_added))
        if entry.available < quantity:
            warnings.append({"sku": sku, "code": INSUFFICIENT_STOCK,
                             "message": f"Only {entry.available} available.",
                             "requested": quantity, "available": entry.available})
        if price_when_added is not None and price_when_added != price:
            warnings.append({"sku": sku, "code": PRICE_CHANGED,
                             "message": "The price changed since this item was added.",
                             "old_price": str(price_when_added), "new_price": str(price)})
    expires_at = (timezone.now() + timedelta(seconds=data.ttl)) if data.ttl > 0 else None
    return CartView(ref=cart, exists=data.exists, lines=lines, warnings=warnings,
                    subtotal=subtotal.quantize(CENTS),
                    currency=currency or getattr(settings, "DEFAULT_CURRENCY", "USD"),
                    checkout_id=data.checkout_id, expires_at=expires_at)
