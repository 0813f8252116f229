"""Tracking: carrier webhooks (verified the way each carrier signs, replay-safe) and a beat
task polling carriers for shipments that heard nothing for a while. Both end in
`tracking_record`, which appends the scans not recorded yet to the order's stream
(ShipmentTrackingUpdated, deduplicated by the scan's identity) and delivers the order when
its last shipment arrives."""

import logging
from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from commerce.core import metrics
from commerce.core.errors import ServiceUnavailable, ValidationFailed
from orders import services as order_services
from shipping import carriers
from shipping.carriers.base import CarrierRefused, TrackingUpdate
from shipping.models import Shipment, TrackingPoll

logger = logging.getLogger(__name__)

# Shipments whose parcels the carrier still moves (worth asking about).
IN_FLIGHT = ("label_created", "in_transit", "out_for_delivery", "exception")


def tracking_record(*, carrier: str, updates: list[TrackingUpdate], source: str
                    ) -> dict[str, int]:
    """Record the scans of the shipments we know (by carrier and tracking number); scans of
    unknown parcels are ignored. Returns counts: received, recorded, unknown."""
    by_number: dict[str, list[TrackingUpdate]] = defaultdict(list)
    for update in updates:
        by_number[update.tracking_number].append(update)
    counts = {"received": len(updates), "recorded": 0, "unknown": 0}
    for number, scans in by_number.items():
        shipment = Shipment.objects.filter(carrier__iexact=carrier, tracking_number=number) \
            .exclude(status="cancelled").first()
        if shipment is None:
            counts["unknown"] += len(scans)
            logger.info("tracking for an unknown parcel ignored",
                        extra={"carrier": carrier, "tracking_number": number})
            continue
        recorded = order_services.order_shipment_tracking_record(
            order_id=shipment.order_id, shipment_id=shipment.shipment_id, updates=[
                {"key": s.key, "status": s.status, "code": s.code,
                 "description": s.description[:200], "location": s.location[:200],
                 "occurred_at": s.occurred_at.isoformat(), "source": source} for s in scans])
        counts["recorded"] += recorded
        if recorded:
            metrics.SHIPPING_TRACKING_EVENTS.labels(carrier=carrier, source=source).inc(recorded)
    return counts


def webhook_receive(*, carrier: str, headers, body: bytes) -> dict[str, int]:
    """A carrier's push: verified (WebhookRejected → 401, nothing recorded), then recorded.
    A replayed push records nothing new."""
    adapter = carriers.get_carrier(carrier)
    try:
        updates = adapter.parse_webhook(headers=headers, body=body)
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        metrics.SHIPPING_WEBHOOKS.labels(carrier=adapter.code, outcome="malformed").inc()
        raise ValidationFailed("The webhook body is not a tracking event this carrier sends.",
                               details={"body": [type(exc).__name__]}) from None
    except Exception:
        metrics.SHIPPING_WEBHOOKS.labels(carrier=adapter.code, outcome="rejected").inc()
        raise
    counts = tracking_record(carrier=adapter.code, updates=updates, source="webhook")
    outcome = "recorded" if counts["recorded"] else ("unknown" if counts["unknown"]
                                                     else "duplicate")
    metrics.SHIPPING_WEBHOOKS.labels(carrier=adapter.code, outcome=outcome).inc()
    return counts


def tracking_poll_due(*, limit: int = 100) -> dict[str, int]:
    """Beat: ask the carrier about parcels in flight that neither a webhook nor a poll
    updated for settings.SHIPPING_TRACKING_STALE_SECONDS. One carrier failing never stops
    the others; each polled shipment is stamped so it is not asked again at once."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.SHIPPING_TRACKING_STALE_SECONDS)
    recently_polled = TrackingPoll.objects.filter(polled_at__gt=stale).values("shipment_id")
    due = list(Shipment.objects.filter(
        Q(status__in=IN_FLIGHT), ~Q(tracking_number=""), updated_at__lte=stale,
        carrier__in=carriers.enabled()).exclude(shipment_id__in=recently_polled)
        .order_by("updated_at")[:limit])
    totals = {"polled": 0, "recorded": 0, "failed": 0}
    for shipment in due:
        try:
            updates = carriers.get_carrier(shipment.carrier).track(
                tracking_number=shipment.tracking_number)
            counts = tracking_record(carrier=shipment.carrier, updates=updates, source="poll")
            totals["recorded"] += counts["recorded"]
        except (CarrierRefused, ServiceUnavailable) as exc:
            totals["failed"] += 1
            logger.warning("tracking poll failed", extra={
                "shipment_id": str(shipment.shipment_id), "error": str(exc)})
        TrackingPoll.objects.update_or_create(shipment_id=shipment.shipment_id,
                                              defaults={"polled_at": now})
        totals["polled"] += 1
    return totals
