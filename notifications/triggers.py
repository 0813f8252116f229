"""Which events cause which messages, to whom, on which channels, saying what.

`plan(envelope)` turns one event envelope (RecordedEvent.envelope()) into the messages it
causes, with their recipients already resolved and their template context built. It only
reads: the consumer writes the deliveries (in the transaction that marks the event handled).

Customer messages follow the customer's preferences (notifications/preferences.py); staff
messages go to the Slack channel."""

import logging
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import NoReverseMatch, reverse

from notifications import kinds, preferences
from notifications.snapshots import order_snapshot

logger = logging.getLogger(__name__)

# Order events → message kind (RefundIssued is special-cased below).
ORDER_TRIGGERS = {
    "OrderConfirmed": "order_confirmed",
    "OrderFailed": "order_failed",
    "OrderCancelled": "order_cancelled",
    "RefundIssued": "order_refunded",
    "OrderShipped": "order_shipped",
    "OrderDelivered": "order_delivered",
    "ReturnApproved": "return_approved",
}
STAFF_TRIGGERS = {
    "LowStockReached": "low_stock",
    "SagaFailed": "saga_failed",
    "SagaAwaitingApproval": "cancellation_awaiting_approval",
}
EVENT_TYPES = frozenset(ORDER_TRIGGERS) | frozenset(STAFF_TRIGGERS)


@dataclass
class Planned:
    kind: str
    channel: str
    recipient: str
    context: dict[str, Any]
    language: str = ""
    user_id: Any = None
    order_id: Any = None
    unsubscribe_url: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def plan(envelope: dict) -> list[Planned]:
    event_type = envelope["event_type"]
    if event_type in STAFF_TRIGGERS:
        return _staff(STAFF_TRIGGERS[event_type], envelope)
    if event_type in ORDER_TRIGGERS and envelope.get("aggregate_type") == "Order":
        return _customer(ORDER_TRIGGERS[event_type], envelope)
    return []


# --- customer messages ---------------------------------------------------------------------
def _customer(kind: str, envelope: dict) -> list[Planned]:
    order_id, data = envelope["aggregate_id"], envelope.get("data") or {}
    snap = order_snapshot(order_id, version=envelope["version"])
    if kind == "order_refunded":
        if snap.cancellation_open:
            return []  # part of a cancellation: the cancellation message says it
        data = {**data, "refund_amount": data.get("amount")}
    user = _customer_user(snap.customer_id)
    pref = preferences.preference_for(user) if user is not None else None
    email = snap.email or (user.email if user is not None else "")
    language = (pref.language if pref else "") or snap.language
    context = {
        **snap.context(), "event": data, "event_type": envelope["event_type"],
        "customer_name": _name(user, email), "site_url": settings.PUBLIC_BASE_URL,
    }
    if kind == "order_shipped" and not context["tracking_url"]:
        context["tracking_url"] = _tracking_url(snap)
    if kind == "return_approved":
        context["return_label_url"] = data.get("return_label_url") or data.get("label_url", "")
        context["return_lines"] = data.get("lines", [])
    channels = preferences.channels_for(pref, kind) if pref else [kinds.EMAIL]
    planned = []
    for channel in channels:
        recipient = _address(channel, email, pref)
        if not recipient:
            continue
        unsubscribe = ""
        if user is not None and channel == kinds.EMAIL and not kinds.KINDS[kind].transactional:
            unsubscribe = preferences.unsubscribe_url(user_id=user.pk, kind=kind, channel=channel)
        planned.append(Planned(
            kind=kind, channel=channel, recipient=recipient,
            context={**context, "unsubscribe_url": unsubscribe}, language=language,
            user_id=user.pk if user else None, order_id=order_id, unsubscribe_url=unsubscribe))
    if not planned:
        logger.warning("no way to reach the customer of order %s for %s", order_id, kind)
    return planned


def _customer_user(customer_id):
    if not customer_id:
        return None
    return get_user_model().objects.filter(pk=customer_id, is_active=True).first()


def _address(channel: str, email: str, pref) -> str:
    if channel == kinds.EMAIL:
        return email
    if channel == kinds.SMS:
        return pref.phone_number if pref else ""
    if channel == kinds.PUSH:
        return pref.push_token if pref else ""
    return ""


def _name(user, email: str) -> str:
    if user is not None and user.full_name:
        return user.full_name
    return email.split("@")[0] if email else ""


def _tracking_url(snap) -> str:
    """The carrier's tracking page when we know its pattern, else our order page."""
    pattern = TRACKING_URLS.get(snap.carrier.strip().lower())
    if pattern and snap.tracking_number:
        return pattern.format(tracking_number=snap.tracking_number)
    return f"{settings.PUBLIC_BASE_URL}/api/v1/orders/{snap.order_id}/"


TRACKING_URLS = {
    "ups": "https://www.ups.com/track?tracknum={tracking_number}",
    "fedex": "https://www.fedex.com/fedextrack/?trknbr={tracking_number}",
    "dhl": "https://www.dhl.com/track?tracking-id={tracking_number}",
    "usps": "https://tools.usps.com/go/TrackConfirmAction?tLabels={tracking_number}",
}


# --- staff messages --------------------------------------------------------------------------
def _staff(kind: str, envelope: dict) -> list[Planned]:
    data = dict(envelope.get("data") or {})
    context = {**data, "event_type": envelope["event_type"], "site_url": settings.PUBLIC_BASE_URL}
    if kind == "low_stock":
        context["admin_url"] = _admin_url("inventory_inventoryitem_change",
                                          envelope["aggregate_id"])
    else:
        context["admin_url"] = _admin_url("sagas_sagainstance_change", data.get("saga_id"))
        context["order_url"] = _admin_url("orders_orderview_change", data.get("order_id"))
    return [Planned(kind=kind, channel=kinds.SLACK, recipient=settings.SLACK_CHANNEL,
                    context=context, language=settings.LANGUAGE_CODE,
                    order_id=data.get("order_id"))]


def _admin_url(name: str, object_id) -> str:
    if not object_id:
        return ""
    try:
        return settings.PUBLIC_BASE_URL + reverse(f"admin:{name}", args=[object_id])
    except NoReverseMatch:
        return ""
