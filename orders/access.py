"""Who may see and act on an order through the API: its owner, staff (any role reads,
support acts), or whoever holds the order's access token (a guest's checkout answer).

The access token is an HMAC of the order id under SECRET_KEY (salted), so nothing is
stored and it cannot be forged; it is answered once, by the guest checkout that placed
the order. Sent back as the `X-Order-Token` header it grants read access to that order."""

import hmac
from contextlib import contextmanager

from django.utils.crypto import salted_hmac
from rest_framework.exceptions import NotAuthenticated

from commerce.accounts import roles
from commerce.core.errors import NotFound
from orders import selectors
from orders.errors import InvalidTransition
from orders.serializers import API_ACTIONS, OWNER, SUPPORT, api_actions

TOKEN_HEADER = "X-Order-Token"
_SALT = "orders.access-token"


def order_access_token(order_id) -> str:
    return salted_hmac(_SALT, str(order_id), algorithm="sha256").hexdigest()


def _token_valid(order_id, token: str | None) -> bool:
    return bool(token) and hmac.compare_digest(order_access_token(order_id), token)


def _signed_in(request) -> bool:
    return bool(request.user and request.user.is_authenticated)


def is_staff(request) -> bool:
    """Any staff role: reads every order."""
    if not hasattr(request, "_orders_is_staff"):
        request._orders_is_staff = roles.has_role(request.user, *roles.ALL)
    return request._orders_is_staff


def is_support(request) -> bool:
    """Support (or admin): acts on orders (staff actions)."""
    if not hasattr(request, "_orders_is_support"):
        request._orders_is_support = roles.has_role(request.user, roles.SUPPORT)
    return request._orders_is_support


def owner_filter(request):
    """None for staff (all orders), else the caller's id."""
    return None if is_staff(request) else request.user.pk


def order_for_request(request, order_id, *, token_allowed: bool = False):
    """The order if the caller may see it; NotFound otherwise (ids are not probeable).
    With `token_allowed`, a valid X-Order-Token grants access without signing in."""
    token = request.headers.get(TOKEN_HEADER) if token_allowed else None
    if token is not None and _token_valid(order_id, token):
        return selectors.order_get(order_id=order_id)
    if not _signed_in(request):
        if token is not None:  # a wrong token: as if the order did not exist
            raise NotFound("Order not found.")
        raise NotAuthenticated()
    return selectors.order_get(order_id=order_id, customer_id=owner_filter(request))


def callers(request, order) -> frozenset[str]:
    """Whose API actions apply to this caller for `order`."""
    who = set()
    if _signed_in(request) and (order.customer_id == request.user.pk or is_staff(request)):
        who.add(OWNER)
    if is_support(request):
        who.add(SUPPORT)
    return frozenset(who)


@contextmanager
def api_action_names(request, order_id):
    """A refused transition lists what the caller can do instead in the API's words."""
    try:
        yield
    except InvalidTransition as exc:
        order = selectors.order_get(order_id=order_id)
        action = exc.details.get("action")
        exc.details = {**exc.details, "action": _API_NAME.get(action, action),
                       "allowed_actions": api_actions(order, callers=callers(request, order))}
        raise


_API_NAME = {transition: action for transition, action, _ in reversed(API_ACTIONS)}
