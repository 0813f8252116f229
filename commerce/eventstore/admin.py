from django.contrib import admin

from commerce.core.admin import ReadOnlyAdminMixin
from commerce.eventstore.models import Event, OutboxMessage


class ReadOnlyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Events are immutable; the outbox is the relay's."""


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["position", "aggregate_type", "aggregate_id", "version", "event_type",
                    "actor", "created_at"]
    list_filter = ["aggregate_type", "event_type"]
    search_fields = ["aggregate_id", "correlation_id", "id"]
    ordering = ["-position"]


@admin.register(OutboxMessage)
class OutboxAdmin(ReadOnlyAdmin):
    list_display = ["id", "topic", "event_id", "created_at", "published_at", "attempts"]
    list_filter = ["topic", ("published_at", admin.EmptyFieldListFilter)]
    ordering = ["-id"]
