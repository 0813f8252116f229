"""Who may see and act on an order through the API: its owner, staff holding the
operation's permission (commerce.accounts.roles: `orders.view_orderview` reads every order),
or whoever holds the order's access token (a guest's checkout answer).

The access token is an HMAC of the order id under SECRET_KEY (salted), so nothing is
stored and it cannot be forged; it is answered once, by the guest checkout that placed
the order. Sent back as the `X-Order-Token` header it grants read access to that order."""

import hmac
from contextlib import contextmanager

from django.utils.crypto import salted_hmac
from rest_framework.exceptions import NotAuthenticated, PermissionDenied

from commerce.accounts import roles
from commerce.core.errors import NotFound
from orders import selectors
from orders.errors import InvalidTransition
from orders.serializers import ACTION_PERMISSIONS, API_ACTIONS, Caller, api_actions

TOKEN_HEADER = "X-Order-Token"
VIEW_ALL = "orders.view_orderview"
_SALT = "orders.access-token"


def order_access_token(order_id) -> str:
    return salted_hmac(_SALT, str(order_id), algorithm="sha256").hexdigest()


def _token_valid(order_id, token: str | None) -> bool:
    return bool(token) and hmac.compare_digest(order_access_token(order_id), token)


def _signed_in(request) -> bool:
    return bool(request.user and request.user.is_authenticated)


def is_staff(request) -> bool:
    """Staff who may see every order (and its staff-only details)."""
    if not hasattr(request, "_orders_is_staff"):
        request._orders_is_staff = roles.can(request.user, VIEW_ALL)
    return request._orders_is_staff


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


def require_for_others(request, order, perm: str) -> None:
    """A customer acts on their own order; anyone else needs `perm`."""
    if order.customer_id != request.user.pk and not roles.can(request.user, perm):
        raise PermissionDenied()


def caller(request) -> Caller:
    """Who asks, for `allowed_actions` (one permission lookup per request)."""
    if not hasattr(request, "_orders_caller"):
        if not _signed_in(request):
            request._orders_caller = Caller()
        else:
            request._orders_caller = Caller(user_id=request.user.pk, perms=frozenset(
                p for p in ACTION_PERMISSIONS if roles.can(request.user, p)))
    return request._orders_caller


@contextmanager
def api_action_names(request, order_id):
    """A refused transition lists what the caller can do instead in the API's words."""
    try:
        yield
    except InvalidTransition as exc:
        order = selectors.order_get(order_id=order_id)
        action = exc.details.get("action")
        exc.details = {**exc.details, "action": _API_NAME.get(action, action),
                       "allowed_actions": api_actions(order, caller=caller(request))}
        raise


_API_NAME = {transition: action for transition, action, _ in reversed(API_ACTIONS)}
