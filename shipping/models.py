"""Shipping tables.

Read models (written only by shipping/projections.py from the order's events, rebuilt by
`replay_events`): shipments, their lines and tracking timeline, returns and their lines.
Vocabulary as in orders/fulfilment_state.py.

Not read models (records of what carriers gave us, kept outside the replayed tables):
LabelDocument (the PDF a carrier sold us) and TrackingPoll (when we last asked a carrier)."""

import uuid

from django.db import models

from orders.fulfilment_state import (
    APPROVED,
    CANCELLED,
    DELIVERED,
    EXCEPTION,
    IN_TRANSIT,
    LABEL_CREATED,
    LABEL_FAILED,
    LABEL_PENDING,
    OUT_FOR_DELIVERY,
    RECEIVED,
    REJECTED,
    REQUESTED,
)

_NAMESPACE = uuid.UUID("c7a3e2d1-5b4f-4e8a-9c6d-1f2e3d4c5b6a")


def child_id(parent_id, key: str) -> uuid.UUID:
    """Deterministic ids for rows derived from an event, so a rebuild has the same keys."""
    return uuid.uuid5(_NAMESPACE, f"{parent_id}:{key}")


class ShipmentStatus(models.TextChoices):
    LABEL_PENDING = LABEL_PENDING
    LABEL_FAILED = LABEL_FAILED
    LABEL_CREATED = LABEL_CREATED
    IN_TRANSIT = IN_TRANSIT
    OUT_FOR_DELIVERY = OUT_FOR_DELIVERY
    DELIVERED = DELIVERED
    EXCEPTION = EXCEPTION
    CANCELLED = CANCELLED


class Shipment(models.Model):
    shipment_id = models.UUIDField(primary_key=True)
    order_id = models.UUIDField(db_index=True)
    carrier = models.CharField(max_length=100)
    service_level = models.CharField(max_length=20, blank=True, default="")
    service_code = models.CharField(max_length=40, blank=True, default="")
    tracking_number = models.CharField(max_length=100, blank=True, default="")
    status = models.CharField(max_length=20, choices=ShipmentStatus.choices)
    label_purchase = models.BooleanField(default=False)  # we buy its label from the carrier
    label_url = models.CharField(max_length=300, blank=True, default="")
    label_cost = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    label_currency = models.CharField(max_length=3, blank=True, default="")
    parcel = models.JSONField(null=True, blank=True)
    failure_code = models.CharField(max_length=50, blank=True, default="")
    failure_message = models.TextField(blank=True, default="")
    cancel_reason = models.TextField(blank=True, default="")
    last_event_at = models.DateTimeField(null=True, blank=True)  # newest carrier scan
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        db_table = "shipping_shipments"
        ordering = ["-created_at", "shipment_id"]
        permissions = [("create_shipment", "Can create shipments and buy their labels"),
                       ("void_shipment", "Can void shipment labels")]
        indexes = [
            models.Index(fields=["carrier", "tracking_number"], name="shipments_tracking_idx"),
            models.Index(fields=["status", "updated_at"], name="shipments_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.carrier} {self.tracking_number or self.shipment_id} ({self.status})"


class ShipmentLine(models.Model):
    id = models.UUIDField(primary_key=True)
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="lines")
    line_no = models.PositiveSmallIntegerField()
    sku = models.CharField(max_length=255)
    quantity = models.PositiveIntegerField()

    class Meta:
        db_table = "shipping_shipment_lines"
        ordering = ["shipment", "line_no"]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.sku}"


class TrackingEvent(models.Model):
    id = models.UUIDField(primary_key=True)  # derived from the order event's id
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="events")
    status = models.CharField(max_length=20)
    code = models.CharField(max_length=20, blank=True, default="")
    description = models.CharField(max_length=200, blank=True, default="")
    location = models.CharField(max_length=200, blank=True, default="")
    occurred_at = models.DateTimeField()  # when the carrier scanned it
    recorded_at = models.DateTimeField()  # when we learnt it
    source = models.CharField(max_length=10)  # webhook | poll

    class Meta:
        db_table = "shipping_tracking_events"
        ordering = ["shipment", "occurred_at", "recorded_at"]

    def __str__(self) -> str:
        return f"{self.status} at {self.occurred_at:%Y-%m-%d %H:%M}"


class ReturnStatus(models.TextChoices):
    REQUESTED = REQUESTED
    APPROVED = APPROVED
    REJECTED = REJECTED
    RECEIVED = RECEIVED


class ReturnRequest(models.Model):
    return_id = models.UUIDField(primary_key=True)
    order_id = models.UUIDField(db_index=True)
    status = models.CharField(max_length=20, choices=ReturnStatus.choices)
    reason = models.TextField()
    decision_reason = models.TextField(blank=True, default="")
    carrier = models.CharField(max_length=20, blank=True, default="")
    service_level = models.CharField(max_length=20, blank=True, default="")
    tracking_number = models.CharField(max_length=100, blank=True, default="")
    label_url = models.CharField(max_length=300, blank=True, default="")
    goods_refund = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    shipping_refund = models.DecimalField(max_digits=14, decimal_places=2, null=True,
                                          blank=True)
    refund_amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    refund_id = models.UUIDField(null=True, blank=True)
    requested_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        db_table = "shipping_returns"
        verbose_name = "return"
        ordering = ["-requested_at", "return_id"]
        permissions = [("decide_return", "Can approve or reject returns"),
                       ("receive_return", "Can receive returned parcels")]
        indexes = [models.Index(fields=["status", "requested_at"], name="returns_queue_idx")]

    def __str__(self) -> str:
        return f"Return {self.return_id} ({self.status})"


class ReturnLine(models.Model):
    id = models.UUIDField(primary_key=True)
    return_request = models.ForeignKey(ReturnRequest, on_delete=models.CASCADE,
                                       related_name="lines", db_column="return_id")
    line_no = models.PositiveSmallIntegerField()
    sku = models.CharField(max_length=255)
    quantity = models.PositiveIntegerField()  # asked to return
    received_quantity = models.PositiveIntegerField(null=True, blank=True)
    disposition = models.CharField(max_length=10, blank=True, default="")  # restock|write_off

    class Meta:
        db_table = "shipping_return_lines"
        ordering = ["return_request", "line_no"]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.sku}"


class LabelDocument(models.Model):
    """A label a carrier sold us (its PDF), for a shipment or a return (id = that id)."""

    id = models.UUIDField(primary_key=True)
    order_id = models.UUIDField(db_index=True)
    kind = models.CharField(max_length=10)  # shipment | return
    carrier = models.CharField(max_length=20)
    tracking_number = models.CharField(max_length=100)
    content = models.BinaryField()
    content_type = models.CharField(max_length=50, default="application/pdf")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "shipping_label_documents"

    def __str__(self) -> str:
        return f"{self.kind} label {self.carrier} {self.tracking_number}"


class TrackingPoll(models.Model):
    """When we last asked the carrier about a shipment (the poller's own bookkeeping)."""

    shipment_id = models.UUIDField(primary_key=True)
    polled_at = models.DateTimeField()

    class Meta:
        db_table = "shipping_tracking_polls"

    def __str__(self) -> str:
        return f"{self.shipment_id} polled {self.polled_at}"
