from uuid import UUID

from django.db.models import QuerySet

from payments.models import Payment, PaymentStatus


def payment_list_for_order(*, order_id: UUID) -> QuerySet[Payment]:
    return Payment.objects.filter(order_id=order_id).prefetch_related("operations")


def payment_active_for_order(*, order_id: UUID) -> Payment | None:
    """The order's payment that holds or moved money (not voided or declined), newest
    first; a pending one (authorization answer not recorded yet) counts."""
    return (Payment.objects.filter(order_id=order_id)
            .exclude(status__in=(PaymentStatus.VOIDED, PaymentStatus.DECLINED))
            .order_by("-created_at").first())


def payment_totals_for_order(*, order_id: UUID) -> dict:
    """Captured and refunded sums over every payment of the order (consistency checks)."""
    from decimal import Decimal

    from django.db.models import Sum
    agg = Payment.objects.filter(order_id=order_id).aggregate(
        captured=Sum("amount_captured"), refunded=Sum("amount_refunded"))
    return {"captured": agg["captured"] or Decimal("0.00"),
            "refunded": agg["refunded"] or Decimal("0.00")}
