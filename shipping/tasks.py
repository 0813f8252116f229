"""Thin beat tasks (schedule in commerce/celery.py). Both are idempotent: a label is bought
with the shipment id as the carrier's idempotency key, and tracking scans are recorded once."""

from celery import shared_task

from commerce.core import wakeups
from shipping import services, tracking

LABELS_FLAG = "commerce:wakeup:shipping-labels"


@shared_task(name="shipping.purchase_pending_labels", ignore_result=True)
def purchase_pending_labels() -> int:
    """Void the labels of cancelled orders' parcels, then buy the labels left pending
    (carrier was down, or a crash between intent and call)."""
    wakeups.clear(LABELS_FLAG)
    services.shipments_settle_cancelled_orders()
    return services.labels_purchase_pending()


@shared_task(name="shipping.poll_tracking", ignore_result=True)
def poll_tracking() -> dict:
    """Ask carriers about parcels in flight that heard nothing recently (missed webhooks)."""
    return tracking.tracking_poll_due()
