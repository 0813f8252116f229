"""Notification state: customer preferences, one delivery row per (event, channel,
recipient), staff template overrides, the consumer's dedupe table, spent unsubscribe
tokens; and the outbound webhooks (endpoints, deliveries, attempts) in webhook_models."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from notifications.kinds import KINDS
from notifications.webhook_models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

__all__ = ["Channel", "Delivery", "DeliveryStatus", "NotificationPreference", "ProcessedEvent",
           "SpentUnsubscribeToken", "TemplateOverride", "WebhookAttempt", "WebhookDelivery",
           "WebhookEndpoint"]

KIND_CHOICES = [(name, name.replace("_", " ")) for name in KINDS]


class Channel(models.TextChoices):
    EMAIL = "email"
    SMS = "sms"
    PUSH = "push"
    SLACK = "slack"


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued"          # waiting to be sent (or to be retried: next_attempt_at)
    SENT = "sent"              # the provider accepted it (provider_message_id)
    DELIVERED = "delivered"    # the provider's receipt says it arrived
    FAILED = "failed"          # refused (4xx), undeliverable, or out of attempts
    BOUNCED = "bounced"        # the receiving mail server rejected it


FINAL_STATUSES = (DeliveryStatus.DELIVERED, DeliveryStatus.FAILED, DeliveryStatus.BOUNCED)


class NotificationPreference(models.Model):
    """A customer's choices. `channels` holds only the kinds they changed: {kind: [channel]};
    a kind absent from it uses the kind's default channels."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, primary_key=True,
                                on_delete=models.CASCADE, related_name="notification_preference")
    language = models.CharField(max_length=10, blank=True, default="",
                                choices=settings.LANGUAGES,
                                help_text="Blank: the site's default language.")
    phone_number = models.CharField(max_length=20, blank=True, default="",
                                    help_text="E.164, for SMS.")
    push_token = models.CharField(max_length=512, blank=True, default="",
                                  help_text="The device's push registration token.")
    channels = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "notification_preferences"

    def __str__(self) -> str:
        return f"preferences of {self.user_id}"


class Delivery(models.Model):
    """One message to one recipient on one channel because of one event. The UNIQUE
    (event, channel, recipient) is what makes a redelivered stream entry send nothing."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    event_id = models.UUIDField()
    event_type = models.CharField(max_length=100)
    kind = models.CharField(max_length=64, choices=KIND_CHOICES)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    recipient = models.CharField(max_length=512)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="+")
    order_id = models.UUIDField(null=True, blank=True)
    language = models.CharField(max_length=10, blank=True, default="")
    subject = models.CharField(max_length=300, blank=True, default="")
    body = models.TextField()
    html_body = models.TextField(blank=True, default="")
    unsubscribe_url = models.URLField(max_length=1000, blank=True, default="")
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices,
                              default=DeliveryStatus.QUEUED)
    provider_message_id = models.CharField(max_length=200, blank=True, default="")
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_until = models.DateTimeField(
        null=True, blank=True, help_text="A sender holds it until then (crash: it expires).")
    last_error = models.TextField(blank=True, default="")
    resends = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "notification_deliveries"
        verbose_name_plural = "deliveries"
        ordering = ["-created_at"]
        permissions = [("resend_delivery", "Can send a notification again")]
        constraints = [
            models.UniqueConstraint(fields=["event_id", "channel", "recipient"],
                                    name="notification_delivery_once"),
        ]
        indexes = [
            models.Index(fields=["channel", "provider_message_id"],
                         name="notif_delivery_provider_idx"),
            models.Index(fields=["next_attempt_at"], name="notif_delivery_due_idx",
                         condition=Q(status="queued")),
            models.Index(fields=["status", "channel", "-created_at"],
                         name="notif_delivery_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.channel} → {self.recipient} [{self.status}]"


class TemplateOverride(models.Model):
    """Staff's replacement for one template file, used instead of it without a deploy.
    Blank language: every language without an override of its own."""

    kind = models.CharField(max_length=64, choices=KIND_CHOICES)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    file = models.CharField(max_length=20, help_text="email.txt, email.html, sms.txt, …")
    language = models.CharField(max_length=10, blank=True, default="",
                                choices=settings.LANGUAGES)
    source = models.TextField(help_text="Django template syntax, as in the file it replaces.")
    active = models.BooleanField(default=True)
    updated_by = models.CharField(max_length=200, blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "notification_template_overrides"
        ordering = ["kind", "channel", "file", "language"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "file", "language"],
                                    name="notification_template_override_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}/{self.file} [{self.language or 'all languages'}]"


class ProcessedEvent(models.Model):
    """Stream entries a consumer group has handled, by event id: written in the same
    transaction as the handling, so a redelivery (reclaimed entry, republished outbox row)
    is recognised and only acknowledged."""

    id = models.BigAutoField(primary_key=True)
    consumer_group = models.CharField(max_length=100)
    event_id = models.UUIDField()
    event_type = models.CharField(max_length=100)
    processed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "notification_processed_events"
        constraints = [
            models.UniqueConstraint(fields=["consumer_group", "event_id"],
                                    name="processed_event_once"),
        ]
        indexes = [models.Index(fields=["processed_at"], name="processed_event_age_idx")]

    def __str__(self) -> str:
        return f"{self.consumer_group}: {self.event_type} {self.event_id}"


class SpentUnsubscribeToken(models.Model):
    """An unsubscribe link that has been used: each works once."""

    nonce = models.CharField(max_length=64, primary_key=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="+")
    kind = models.CharField(max_length=64)
    channel = models.CharField(max_length=10)
    spent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "notification_spent_unsubscribe_tokens"

    def __str__(self) -> str:
        return f"unsubscribe {self.kind}/{self.channel} by {self.user_id}"
