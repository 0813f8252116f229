"""Saga state lives in PostgreSQL: one row per saga instance plus a step log.

UNIQUE(saga_id, step, action) on the log means one row per step and direction: a redelivered
message finds the row (and the saga's current step) and cannot run the effect a second time."""

import uuid

from django.db import models


class SagaStatus(models.TextChoices):
    RUNNING = "running"
    AWAITING_APPROVAL = "awaiting_approval"
    COMPENSATING = "compensating"
    COMPLETED = "completed"        # every forward step succeeded
    COMPENSATED = "compensated"    # a step was refused; every compensation ran
    FAILED = "failed"              # a compensation (or step) keeps failing: needs a person


ACTIVE_STATUSES = (SagaStatus.RUNNING, SagaStatus.COMPENSATING, SagaStatus.AWAITING_APPROVAL)
FINAL_STATUSES = (SagaStatus.COMPLETED, SagaStatus.COMPENSATED)


class Direction(models.TextChoices):
    FORWARD = "forward"
    COMPENSATE = "compensate"


class SagaInstance(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    saga_type = models.CharField(max_length=64)
    correlation_id = models.UUIDField(help_text="The business entity (the order id).")
    current_step = models.PositiveSmallIntegerField(default=0)
    saga_data = models.JSONField(default=dict)
    status = models.CharField(max_length=24, choices=SagaStatus.choices,
                              default=SagaStatus.RUNNING)
    deadline = models.DateTimeField(
        null=True, blank=True,
        help_text="When the saga is due: any worker may claim it then (a new saga is due at "
                  "once; a claim sets it to the end of its lease, a retry to its backoff).")
    lease_id = models.UUIDField(null=True, blank=True,
                                help_text="The claim of the worker running it (until deadline).")
    attempts = models.PositiveIntegerField(default=0, help_text="Claims of the current step.")
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "saga_instances"
        ordering = ["-created_at"]
        permissions = [("repair_saga", "Can retry, resume or force the compensation of a saga")]
        indexes = [
            models.Index(fields=["status", "deadline"], name="saga_status_deadline_idx"),
            models.Index(fields=["correlation_id"], name="saga_correlation_idx"),
        ]
        constraints = [
            # At most one live fulfilment and one live cancellation per order (a rejected
            # cancellation may be requested again later). Refund sagas are one per refund:
            # several partial refunds of an order may run at once.
            models.UniqueConstraint(
                fields=["saga_type", "correlation_id"],
                condition=models.Q(status__in=["running", "compensating", "awaiting_approval"])
                & ~models.Q(saga_type="order_refund"),
                name="saga_one_active_per_type",
            ),
        ]

    def __str__(self):
        return f"{self.saga_type} {self.correlation_id} [{self.status}]"

    @property
    def direction(self) -> str:
        if self.status == SagaStatus.COMPENSATING or (
                self.status == SagaStatus.FAILED
                and self.saga_data.get("failed_direction") == Direction.COMPENSATE):
            return Direction.COMPENSATE
        return Direction.FORWARD


class StepStatus(models.TextChoices):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    RETRYING = "retrying"
    AWAITING_APPROVAL = "awaiting_approval"
    FAILED = "failed"


class SagaStep(models.Model):
    id = models.BigAutoField(primary_key=True)
    saga = models.ForeignKey(SagaInstance, on_delete=models.CASCADE, related_name="steps")
    step = models.CharField(max_length=64)
    action = models.CharField(max_length=16, choices=Direction.choices)
    status = models.CharField(max_length=24, choices=StepStatus.choices)
    attempts = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    result = models.JSONField(default=dict, blank=True)

    class Meta:
        db_table = "saga_steps"
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["saga", "step", "action"],
                                    name="saga_step_action_uniq"),
        ]

    def __str__(self):
        return f"{self.step}/{self.action} [{self.status}]"
