from django.contrib import admin

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

    list_display = ["id", "order_id", "status", "amount_authorized", "amount_captured",
                    "amount_refunded", "currency", "payment_method", "created_at"]
    list_filter = ["status", "payment_method"]
    search_fields = ["=id", "=order_id", "gateway_reference"]
    inlines = [PaymentOperationInline]
    readonly_fields = [f.name for f in Payment._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
