"""Payments back office: read-only (money moves only through the payment services, i.e.
the sagas). Each payment, declined attempts included (status `declined`), shows its
customer."""

from django.contrib import admin
from django.db.models import OuterRef, Subquery

from commerce.core.admin import compact_id_html
from orders.models import OrderView
from payments.models import Payment, PaymentOperation


class PaymentOperationInline(admin.TabularInline):
    model = PaymentOperation
    extra = 0
    can_delete = False
    readonly_fields = ["kind", "amount", "idempotency_key", "gateway_reference", "created_at"]
    fields = readonly_fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    """Read-only: money moves only through the payment services (sagas)."""

    list_display = ["short_id", "short_order_id", "customer_email", "status",
                    "amount_authorized", "amount_captured", "amount_refunded", "currency",
                    "payment_method", "created_at"]
    list_filter = ["status", "payment_method"]
    search_fields = ["=id", "=order_id", "gateway_reference"]
    inlines = [PaymentOperationInline]
    readonly_fields = [f.name for f in Payment._meta.fields]

    def get_queryset(self, request):
        customer = OrderView.objects.filter(pk=OuterRef("order_id")).values("customer__email")
        return super().get_queryset(request).annotate(customer_email=Subquery(customer[:1]))

    @admin.display(description="payment", ordering="id")
    def short_id(self, obj):
        return compact_id_html(obj.id)

    @admin.display(description="order", ordering="order_id")
    def short_order_id(self, obj):
        return compact_id_html(obj.order_id)

    @admin.display(description="customer", ordering="customer_email")
    def customer_email(self, obj):
        return obj.customer_email or "-"

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

