"""Shipping options for a cart (GET /api/v1/cart/shipping-options/): the shipping app's live
quotes for the cart's parcel, bound to this cart and its current contents."""

from cart import store
from cart.checkout import CartEmpty
from cart.refs import CartRef
from cart.selectors import cart_view_build
from commerce.core.errors import NotFound
from shipping.quotes import Quote, shipping_options


def cart_shipping_options(*, cart: CartRef, country: str, postal_code: str
                          ) -> tuple[list[Quote], object]:
    """(quotes cheapest first, the cart view they were made for)."""
    data = store.read(cart.cart_id)
    if not data.exists and cart.must_exist:
        raise NotFound("Cart not found.")
    view = cart_view_build(cart=cart, data=data)
    lines = [{"sku": line.sku, "quantity": line.quantity} for line in view.lines
             if line.active]
    if not lines:
        raise CartEmpty()
    quotes = shipping_options(cart_id=cart.cart_id, checkout_id=data.checkout_id, lines=lines,
                              subtotal=view.subtotal, currency=view.currency,
                              country=country, postal_code=postal_code)
    return quotes, view
