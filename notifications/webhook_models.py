"""Outbound webhooks to subscribers (Saleor's webhooks are the model): endpoints staff
register, one delivery per (endpoint, event), and a log of every attempt."""

import uuid

from django.db import models
from django.db.models import Q


class WebhookEndpoint(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=100)
    url = models.URLField(max_length=1000)
    event_types = models.JSONField(
        default=list, blank=True, help_text='Event types to receive, e.g. ["OrderConfirmed"]; '
        '["*"] for every event.')
    secret = models.CharField(max_length=200, help_text="Signs each delivery (HMAC-SHA256).")
    is_active = models.BooleanField(default=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "webhook_endpoints"
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.url})"

    def wants(self, event_type: str) -> bool:
        return "*" in self.event_types or event_type in self.event_types


class WebhookDeliveryStatus(models.TextChoices):
    PENDING = "pending"        # not yet accepted by the endpoint (retries scheduled)
    DELIVERED = "delivered"    # the endpoint answered 2xx
    FAILED = "failed"          # out of attempts: given up (later ones of the order go on)


class WebhookDelivery(models.Model):
    """One event for one endpoint. Deliveries of one aggregate go out one at a time in
    aggregate-version order (a later one waits while an earlier one is pending)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE,
                                 related_name="deliveries")
    event_id = models.UUIDField()
    event_type = models.CharField(max_length=100)
    aggregate_type = models.CharField(max_length=100)
    aggregate_id = models.UUIDField()
    aggregate_version = models.PositiveIntegerField()
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=WebhookDeliveryStatus.choices,
                              default=WebhookDeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "webhook_deliveries"
        verbose_name_plural = "webhook deliveries"
        ordering = ["-created_at"]
        permissions = [("redeliver_webhookdelivery", "Can deliver a webhook again")]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event_id"], name="webhook_delivery_once"),
        ]
        indexes = [
            models.Index(fields=["endpoint", "aggregate_id", "aggregate_version"],
                         name="webhook_delivery_queue_idx", condition=Q(status="pending")),
            models.Index(fields=["next_attempt_at"], name="webhook_delivery_due_idx",
                         condition=Q(status="pending")),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} v{self.aggregate_version} → {self.endpoint_id} [{self.status}]"


class WebhookAttempt(models.Model):
    id = models.BigAutoField(primary_key=True)
    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE,
                                 related_name="attempt_log")
    attempt = models.PositiveIntegerField()
    attempted_at = models.DateTimeField()
    status_code = models.PositiveIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField()
    error = models.CharField(max_length=500, blank=True, default="")
    response_excerpt = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        db_table = "webhook_attempts"
        ordering = ["-attempted_at"]

    def __str__(self) -> str:
        return f"attempt {self.attempt}: {self.status_code or self.error}"
