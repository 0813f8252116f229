"""Returns (RMA) as the shop runs them: the customer asks (within the window), staff
approve — which buys a return label from the carrier and records ReturnApproved with its
URL, what the customer is sent — or reject; receiving the parcel restocks or writes off
each line and asks for the refund of their share (orders/returns.py holds the rules; the
refund saga pays it out through the payment gateway).

The return label follows intent → call → outcome like shipment labels: the carrier call
carries the return id as its idempotency key, so approving again after a crash or an
outage gets the same label back."""

import hmac
import uuid

from django.conf import settings
from django.db import transaction
from django.utils.crypto import salted_hmac

from commerce.core import metrics
from commerce.core.errors import ValidationFailed
from orders import selectors as order_selectors
from orders import services as order_services
from orders.returns import InvalidReturnState
from shipping import carriers, parcels, selectors
from shipping.carriers.base import SERVICE_LEVELS, Address
from shipping.models import ReturnRequest, Shipment
from shipping.services import store_label

_LABEL_SALT = "shipping.return-label"


def return_label_token(return_id) -> str:
    """Opens the return's label without signing in (an HMAC of the return id under
    SECRET_KEY: nothing stored, not forgeable), so the link in the customer's message works
    as it is."""
    return salted_hmac(_LABEL_SALT, str(return_id), algorithm="sha256").hexdigest()


def return_label_token_valid(return_id, token: str | None) -> bool:
    return bool(token) and hmac.compare_digest(return_label_token(return_id).encode(),
                                               token.encode())


def return_label_url(order_id, return_id) -> str:
    """The link sent to the customer with ReturnApproved (absolute: it goes in messages)."""
    return (f"{settings.PUBLIC_BASE_URL}/api/v1/orders/{order_id}/returns/{return_id}/label/"
            f"?token={return_label_token(return_id)}")


def return_request(*, order_id, lines: list[dict], reason: str, return_id=None
                   ) -> ReturnRequest:
    """The customer asks to send `lines` [{sku, quantity}] back (ReturnRequested)."""
    return_id = str(return_id or uuid.uuid4())
    order_services.order_return_request(order_id=order_id, return_id=return_id, lines=lines,
                                        reason=reason)
    metrics.RETURNS.labels(action="requested").inc()
    return selectors.return_get(return_id=return_id)


def _return_carrier(order_id, carrier: str | None) -> str:
    """As asked, else the carrier that delivered the order, else the customer's choice."""
    if carrier:
        return carrier.lower()
    shipped = Shipment.objects.filter(order_id=order_id, carrier__in=carriers.enabled()) \
        .exclude(status="cancelled").order_by("-created_at").first()
    chosen = order_selectors.order_shipping_option(order_id=order_id) or {}
    return shipped.carrier if shipped else (chosen.get("carrier") or carriers.default())


def return_approve(*, return_id, carrier: str | None = None,
                   service_level: str | None = None) -> ReturnRequest:
    """Buy the return label (the customer's address → the warehouse) and approve
    (ReturnApproved with the label URL). A carrier refusal (422) or outage (503) leaves the
    return requested; approving again buys the same label."""
    found = selectors.return_get(return_id=return_id)
    if found.status in ("approved", "received"):
        return found
    if found.status != "requested":
        raise InvalidReturnState(details={"return_id": str(return_id), "status": found.status})
    order = order_selectors.order_get(order_id=found.order_id)
    adapter = carriers.get_carrier(_return_carrier(found.order_id, carrier))
    level = service_level or "economy"
    if level not in SERVICE_LEVELS:
        raise ValidationFailed(details={"service_level": [f"One of {', '.join(SERVICE_LEVELS)}."]})
    lines = [{"sku": line.sku, "quantity": line.quantity} for line in found.lines.all()]
    try:
        label = adapter.create_label(
            origin=Address.from_dict(order.shipping_address), destination=parcels.origin(),
            parcel=parcels.parcel_for(lines), service_code=adapter.service_for(level),
            reference=str(found.return_id), is_return=True)
    except Exception:
        metrics.SHIPPING_LABELS.labels(carrier=adapter.code, kind="return",
                                       outcome="failed").inc()
        raise
    with transaction.atomic():
        store_label(found.return_id, order_id=found.order_id, kind="return", label=label)
        order_services.order_return_approve(
            order_id=found.order_id, return_id=found.return_id, carrier=adapter.code,
            service_level=level, tracking_number=label.tracking_number,
            label_url=return_label_url(found.order_id, found.return_id))
    metrics.SHIPPING_LABELS.labels(carrier=adapter.code, kind="return", outcome="ok").inc()
    metrics.RETURNS.labels(action="approved").inc()
    return selectors.return_get(return_id=return_id)


def return_reject(*, return_id, reason: str) -> ReturnRequest:
    found = selectors.return_get(return_id=return_id)
    order_services.order_return_reject(order_id=found.order_id, return_id=found.return_id,
                                       reason=reason)
    metrics.RETURNS.labels(action="rejected").inc()
    return selectors.return_get(return_id=return_id)


def return_receive(*, return_id, lines: list[dict] | None = None) -> ReturnRequest:
    """The parcel arrived: `lines` [{sku, quantity, disposition: restock | write_off}]
    (None: everything asked for, restocked); restock, then the refund is requested."""
    found = selectors.return_get(return_id=return_id)
    order_services.order_return_receive(order_id=found.order_id, return_id=found.return_id,
                                        lines=lines)
    metrics.RETURNS.labels(action="received").inc()
    return selectors.return_get(return_id=return_id)
