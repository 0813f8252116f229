import uuid

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models.expressions import RawSQL


class Event(models.Model):
    """One immutable fact about one aggregate. The only source of truth for event-sourced
    state; every read model is a projection of these rows.

    `position` is a global, gap-tolerant ordering used for replays only: bigserial values
    commit out of order, so never use it to resume external delivery (that is the outbox's
    job)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    position = models.BigIntegerField(
        unique=True, editable=False, db_default=RawSQL("nextval('events_position_seq')", ())
    )
    aggregate_id = models.UUIDField()
    aggregate_type = models.CharField(max_length=100)
    event_type = models.CharField(max_length=100)
    event_version = models.PositiveSmallIntegerField(default=1)
    event_data = models.JSONField(encoder=DjangoJSONEncoder)
    version = models.PositiveIntegerField()
    created_at = models.DateTimeField()
    correlation_id = models.CharField(max_length=128, null=True, blank=True)
    causation_id = models.CharField(max_length=128, null=True, blank=True)
    actor = models.CharField(max_length=200, null=True, blank=True)

    class Meta:
        db_table = "events"
        constraints = [
            # The optimistic-concurrency guard: two writers can never both claim version N.
            models.UniqueConstraint(
                fields=["aggregate_id", "version"], name="events_aggregate_version_uniq"
            ),
            models.CheckConstraint(condition=models.Q(version__gte=1), name="events_version_gte_1"),
        ]
        indexes = [
            models.Index(fields=["aggregate_type", "position"], name="events_type_position_idx"),
            models.Index(fields=["event_type"], name="events_event_type_idx"),
            models.Index(fields=["correlation_id"], name="events_correlation_idx"),
        ]
        ordering = ["position"]

    def __str__(self) -> str:
        return f"{self.aggregate_type}:{self.aggregate_id} v{self.version} {self.event_type}"


class OutboxMessage(models.Model):
    """An event waiting to be published to Redis. Written in the same transaction as the
    event (so a rolled-back command publishes nothing) and relayed at-least-once."""

    id = models.BigAutoField(primary_key=True)
    event_id = models.UUIDField(unique=True)
    topic = models.CharField(max_length=100)
    payload = models.JSONField(encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField()
    published_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")

    class Meta:
        db_table = "event_outbox"
        indexes = [
            models.Index(
                fields=["id"],
                name="outbox_unpublished_idx",
                condition=models.Q(published_at__isnull=True),
            ),
        ]
        ordering = ["id"]

    def __str__(self) -> str:
        return f"outbox #{self.id} {self.topic} {self.event_id}"
