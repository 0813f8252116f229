"""Order read models (CQRS): written only by orders/projections.py, inline with every
append, and rebuilt exactly by `replay_events`. The truth is the event stream."""

import uuid

from django.conf import settings
from django.db import models

from orders.lifecycle import OrderLifecycle, OrderStatus  # noqa: F401  (registers the machine)

_LINE_NAMESPACE = uuid.UUID("3a0f6c1e-52d4-4b7e-9c1a-8e2d7f4b6a90")


def line_id(order_id, line_no: int) -> uuid.UUID:
    """Deterministic, so a rebuild produces the same primary keys as the live table."""
    return uuid.uuid5(_LINE_NAMESPACE, f"{order_id}:{line_no}")


class OrderView(models.Model):
    order_id = models.UUIDField(primary_key=True)
    # A real FK for admin search/joins, but no DB constraint: a read model must be
    # rebuildable from events alone, in any order relative to the users table. No index of
    # its own: order_views_customer_idx (customer, -created_at) serves lookups by customer,
    # and every index is written again by each status change.
    customer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING,
                                 db_constraint=False, related_name="+", db_index=False)
    status = models.CharField(max_length=20, choices=OrderStatus.choices)
    cancellation_pending = models.BooleanField(default=False)
    archived = models.BooleanField(default=False)
    currency = models.CharField(max_length=3)
    subtotal = models.DecimalField(max_digits=14, decimal_places=2)
    shipping_total = models.DecimalField("shipping", max_digits=14, decimal_places=2)
    discount_total = models.DecimalField("discount", max_digits=14, decimal_places=2)
    tax_total = models.DecimalField("tax", max_digits=14, decimal_places=2)
    total_amount = models.DecimalField("total", max_digits=14, decimal_places=2)
    captured_amount = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    refunded_amount = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    item_count = models.PositiveIntegerField()
    shipping_address = models.JSONField()
    notes = models.TextField(blank=True, default="")
    payment_method = models.CharField(max_length=100, null=True, blank=True)
    channel = models.CharField(max_length=20)
    reservation_id = models.UUIDField(null=True, blank=True)
    payment_id = models.CharField(max_length=100, null=True, blank=True)
    shipment_id = models.UUIDField(null=True, blank=True)
    carrier = models.CharField(max_length=100, blank=True, default="")
    tracking_number = models.CharField(max_length=100, blank=True, default="")
    failure_code = models.CharField(max_length=50, blank=True, default="")
    failure_reason = models.TextField(blank=True, default="")
    cancellation_reason = models.TextField(blank=True, default="")
    version = models.PositiveIntegerField()
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        db_table = "order_views"
        verbose_name = "order"
        # Staff operations beyond viewing (commerce.accounts.roles; declared in apps.py).
        permissions = [
            ("update_order", "Can change any customer's order (address, notes)"),
            ("cancel_order", "Can request the cancellation of any order"),
            ("approve_cancellation", "Can approve or reject a cancellation awaiting approval"),
            ("ship_order", "Can ship, deliver and complete orders"),
            ("archive_order", "Can archive finished orders"),
            ("refund_order", "Can refund part or all of what an order's customer paid"),
        ]
        ordering = ["-created_at", "-order_id"]
        indexes = [
            models.Index(fields=["customer", "-created_at"], name="order_views_customer_idx"),
            models.Index(fields=["status", "-created_at"], name="order_views_status_idx"),
            models.Index(fields=["-created_at", "-order_id"], name="order_views_created_idx"),
        ]

    def __str__(self) -> str:
        return f"Order {self.order_id}"

    def lifecycle(self) -> OrderLifecycle:
        from orders import lifecycle

        return lifecycle.machine(status=self.status,
                                 cancellation_pending=self.cancellation_pending,
                                 captured=self.captured_amount > 0, archived=self.archived)


class OrderLine(models.Model):
    id = models.UUIDField(primary_key=True)
    order = models.ForeignKey(OrderView, on_delete=models.CASCADE, related_name="lines",
                              db_column="order_id")
    line_no = models.PositiveSmallIntegerField()
    sku = models.CharField(max_length=255)
    name = models.CharField(max_length=200)
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    quantity = models.PositiveIntegerField()
    line_total = models.DecimalField(max_digits=14, decimal_places=2)

    class Meta:
        db_table = "order_lines"
        ordering = ["order", "line_no"]
        constraints = [
            models.UniqueConstraint(fields=["order", "line_no"], name="order_lines_no_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.sku} × {self.quantity}"
