"""Our side of payments: one Payment per authorization, and a row per gateway operation.

The processor (gateway) keeps its own records; ours say what we asked for and what it
answered. Each operation carries the idempotency key it was sent with (UNIQUE), so a
retried saga step finds the operation it already recorded instead of charging again."""

import uuid

from django.db import models

from orders.models import OrderView


class PaymentStatus(models.TextChoices):
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
    amount_authorized = models.DecimalField(max_digits=12, decimal_places=2)
    amount_captured = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    amount_refunded = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    gateway = models.CharField(max_length=64)
    gateway_reference = models.CharField(max_length=64, unique=True)
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
        return f"{self.id} {self.status} {self.amount_authorized} {self.currency}"


class PaymentOperationKind(models.TextChoices):
    AUTHORIZE = "authorize"
    CAPTURE = "capture"
    VOID = "void"
    REFUND = "refund"


class PaymentOperation(models.Model):
    id = models.BigAutoField(primary_key=True)
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="operations")
    kind = models.CharField(max_length=16, choices=PaymentOperationKind.choices)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    idempotency_key = models.CharField(max_length=255, unique=True)
    gateway_reference = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "payment_operations"
        ordering = ["id"]

    def __str__(self):
        return f"{self.kind} {self.amount}"


class DeclinedPaymentAttempt(OrderView):
    """Back-office view of orders whose payment the processor declined (no Payment row
    exists for them): the order read model, filtered by its admin."""

    class Meta:
        proxy = True
        verbose_name = "declined payment attempt"
