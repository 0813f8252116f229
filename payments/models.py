"""Our side of payments: one Payment per authorization attempt, and a row per operation.

The processor keeps its own records; ours say what we asked for and what it answered. Every
operation is recorded as an intent (status `pending`, with the idempotency key it is sent
with, UNIQUE) in one transaction before the call, and settled (`succeeded`/`failed`) in
another after it, so the call happens with no transaction open and a crash in between leaves
a pending row that recovery settles by asking the processor again with the same key (it
answers a repeated key with its original result). A payment whose authorization is still
pending has status `pending`; a declined one stays as `declined`, visible to staff."""

import uuid

from django.db import models


class PaymentStatus(models.TextChoices):
    PENDING = "pending"          # authorization asked, answer not recorded yet
    DECLINED = "declined"        # the processor refused the authorization
    AUTHORIZED = "authorized"
    CAPTURED = "captured"
    VOIDED = "voided"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"


class Payment(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order_id = models.UUIDField(db_index=True)
    status = models.CharField(max_length=24, choices=PaymentStatus.choices)
    currency = models.CharField(max_length=3)
    payment_method = models.CharField(max_length=64)
    amount = models.DecimalField(max_digits=12, decimal_places=2, default=0,
                                 help_text="What the authorization asked for.")
    amount_authorized = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    amount_captured = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    amount_refunded = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    gateway = models.CharField(max_length=64)
    gateway_reference = models.CharField(max_length=64, unique=True, null=True, blank=True)
    failure_code = models.CharField(max_length=64, blank=True, default="")
    failure_message = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "payments"
        ordering = ["created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount_captured__lte=models.F("amount_authorized")),
                name="payment_captured_lte_authorized",
            ),
            models.CheckConstraint(
                condition=models.Q(amount_refunded__lte=models.F("amount_captured")),
                name="payment_refunded_lte_captured",
            ),
        ]

    def __str__(self):
        return f"{self.id} {self.status} {self.amount} {self.currency}"


class PaymentOperationKind(models.TextChoices):
    AUTHORIZE = "authorize"
    CAPTURE = "capture"
    VOID = "void"
    REFUND = "refund"


class OperationStatus(models.TextChoices):
    PENDING = "pending"      # recorded, sent (or about to be); the answer is not recorded
    SUCCEEDED = "succeeded"
    FAILED = "failed"        # the processor refused it; nothing moved


class PaymentOperation(models.Model):
    id = models.BigAutoField(primary_key=True)
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="operations")
    kind = models.CharField(max_length=16, choices=PaymentOperationKind.choices)
    status = models.CharField(max_length=16, choices=OperationStatus.choices,
                              default=OperationStatus.PENDING)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    idempotency_key = models.CharField(max_length=255, unique=True)
    gateway_reference = models.CharField(max_length=64, blank=True, default="")
    error_code = models.CharField(max_length=64, blank=True, default="")
    error_message = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "payment_operations"
        ordering = ["id"]
        indexes = [models.Index(fields=["status", "created_at"], name="payment_op_status_idx")]

    def __str__(self):
        return f"{self.kind} {self.amount} [{self.status}]"
