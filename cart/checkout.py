"""Checkout: turn the customer's cart into an order, exactly once.

Exactly one order per cart contents, with or without an Idempotency-Key: every cart change
stores a fresh `checkout_id` (UUID) in the cart hash, and checkout places the order under
that id (`order_place(order_id=checkout_id)`). Two concurrent checkouts of the same cart read
the same id; the event store's UNIQUE(aggregate_id, version) lets exactly one `OrderPlaced`
in and the other gets `ConcurrencyError`, which we answer with the order that exists. A
checkout after the cart changed uses a new id, i.e. a new order, as it should.

The cart is deleted only after the order's transaction commits (`on_commit`), and only if it
still has the checked-out `checkout_id`, so lines added meanwhile are kept. If that delete
fails (Redis blip), the cart stays; checking out again returns the same order. The delete
leaves a checkout receipt (cart/store.py), so a duplicate that arrives after the cart was
cleared answers the same order too, not `cart_empty`.

A guest checks out their token's cart with an email: the order belongs to the account with
that email, or to a guest account made for it (which whoever registers with the email
later takes over: commerce.accounts.services.user_register)."""

import logging
import uuid
from dataclasses import dataclass

import redis
from django.conf import settings
from django.db import transaction

from cart import events, store
from cart.refs import CartRef, cart_ref_for_user
from cart.selectors import INSUFFICIENT_STOCK, UNAVAILABLE, cart_view_build
from commerce.accounts.services import guest_customer_get_or_create
from commerce.core import metrics
from commerce.core.errors import (
    ConcurrencyError,
    Conflict,
    DomainError,
    ErrorCode,
    NotFound,
    ValidationFailed,
)
from orders.selectors import order_get
from orders.services import order_place
from orders.validation import clean_address
from shipping.quotes import quote_redeem

logger = logging.getLogger(__name__)


class CartEmpty(DomainError):
    code = ErrorCode.CART_EMPTY
    http_status = 400
    default_message = "The cart is empty."


class CartUnavailable(Conflict):
    code = ErrorCode.CART_UNAVAILABLE
    default_message = "Some items in the cart are no longer available."


@dataclass(frozen=True)
class CheckoutResult:
    order: object  # orders' OrderView
    created: bool  # False: the order for this cart already existed (duplicate submit)


def cart_checkout(*, shipping_address: dict, payment_method: str | None = None, user=None,
                  cart: CartRef | None = None, guest_email: str | None = None,
                  shipping_quote_id=None) -> CheckoutResult:
    """Place an order for the cart at current catalog prices (orders snapshots them): the
    signed-in `user`'s own cart, or a guest `cart` with `guest_email`, shipped with the option
    of `shipping_quote_id` (a quote from the cart's shipping options; its price is charged).
    Refusals (empty cart, unavailable items, invalid address, an expired or foreign quote)
    leave the cart as is."""
    ref = cart if cart is not None else cart_ref_for_user(user)
    data = store.read(ref.cart_id)
    if not data.lines:
        placed = store.checked_out_order(ref.cart_id)
        if placed is None and not data.exists and ref.must_exist:
            raise NotFound("Cart not found.")
        if placed is not None:  # a duplicate of a checkout that already cleared the cart
            metrics.CHECKOUTS.labels(outcome="duplicate").inc()
            return CheckoutResult(order=order_get(order_id=placed), created=False)
        metrics.CHECKOUTS.labels(outcome="empty").inc()
        raise CartEmpty()
    view = cart_view_build(cart=ref, data=data)
    problems = [w for w in view.warnings if w["code"] in (UNAVAILABLE, INSUFFICIENT_STOCK)]
    if problems:
        metrics.CHECKOUTS.labels(outcome="unavailable").inc()
        raise CartUnavailable(details={"lines": problems})
    option = _shipping_option(ref.cart_id, data.checkout_id, shipping_address,
                              shipping_quote_id)
    order_id = uuid.UUID(data.checkout_id)
    lines = [{"sku": sku, "quantity": qty} for sku, qty in data.lines.items()]
    with transaction.atomic():
        customer = user if user is not None else guest_customer_get_or_create(
            email=guest_email)
        try:
            order = order_place(
                customer_id=customer.pk, lines=lines, shipping_address=shipping_address,
                payment_method=payment_method, order_id=order_id, channel="cart",
                shipping_option=option,
            )
            created = True
        except ConcurrencyError:
            order = _existing_order(order_id=order_id, customer_id=customer.pk)
            created = False
        except DomainError:
            metrics.CHECKOUTS.labels(outcome="refused").inc()
            raise
        checkout_id = data.checkout_id
        transaction.on_commit(lambda: _cart_delete_checked_out(ref.cart_id, checkout_id,
                                                               order_id, created), robust=True)
    metrics.CHECKOUTS.labels(outcome="placed" if created else "duplicate").inc()
    return CheckoutResult(order=order, created=created)


def _shipping_option(cart_id: str, checkout_id: str, address, quote_id) -> dict | None:
    if quote_id is None:
        if settings.SHIPPING_QUOTE_REQUIRED:
            metrics.CHECKOUTS.labels(outcome="refused").inc()
            raise ValidationFailed("Choose a shipping option first.",
                                   code=ErrorCode.SHIPPING_QUOTE_REQUIRED,
                                   details={"shipping_quote_id": ["This field is required."]})
        return None
    try:
        destination = clean_address(address)
        quote = quote_redeem(quote_id=quote_id, cart_id=cart_id, checkout_id=checkout_id,
                             country=destination["country"],
                             postal_code=destination["postal_code"])
    except DomainError:
        metrics.CHECKOUTS.labels(outcome="refused").inc()
        raise
    return quote.as_option()


def _existing_order(*, order_id: uuid.UUID, customer_id) -> object:
    """The order a concurrent or earlier checkout of the same cart contents placed."""
    try:
        return order_get(order_id=order_id, customer_id=customer_id)
    except NotFound:
        # Not this customer's order: a genuine conflict, never someone else's order.
        raise ConcurrencyError(details={"order_id": str(order_id)}) from None


def _cart_delete_checked_out(cart_id: str, checkout_id: str, order_id: uuid.UUID,
                             created: bool) -> None:
    if created:  # once per order, whichever duplicate request clears the cart
        events.cart_event_record(event=events.CHECKED_OUT, cart_id=cart_id,
                                 order_id=str(order_id))
    try:
        store.delete_if_checkout(cart_id, checkout_id, str(order_id))
    except (DomainError, redis.exceptions.RedisError) as exc:
        # Redis down: the order exists; a retry returns it and clears the cart then.
        logger.warning("cart not cleared after checkout",
                       extra={"order_id": str(order_id), "error": str(exc)})
