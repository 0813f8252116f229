"""Back office for catalog and stock. Every change goes through inventory.services (events
with the staff user as actor); counters are never edited by hand."""

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.db.models import F
from django.shortcuts import render
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from commerce.accounts import roles
from commerce.core.admin import (
    ReadOnlyAdminMixin,
    actor_email_subquery,
    actor_emails,
    compact_id_html,
)
from commerce.core.errors import DomainError
from inventory import services
from inventory.models import InventoryItem, Reservation, ReservationLine, StockMovement
from inventory.validation import (
    MAX_QUANTITY,
    MEASURES,
    PRODUCT_ID_MAX_LENGTH,
    PRODUCT_ID_PATTERN,
    SKU_MAX_LENGTH,
    SKU_PATTERN,
)


class LowStockFilter(admin.SimpleListFilter):
    title = "stock level"
    parameter_name = "stock"

    def lookups(self, request, model_admin):
        return [("low", "Low stock"), ("reorder", "At or below reorder point"),
                ("out", "Out of stock")]

    def queryset(self, request, queryset):
        if self.value() == "low":
            return queryset.filter(available__lte=F("low_stock_threshold"))
        if self.value() == "reorder":
            return queryset.filter(available__lte=F("reorder_point"))
        if self.value() == "out":
            return queryset.filter(available__lte=0)
        return queryset


class InventoryItemForm(forms.ModelForm):
    """Catalog fields live on the Product row; the form shows them beside the stock
    settings and InventoryItemAdmin.save_model hands everything to the services."""

    sku = forms.RegexField(SKU_PATTERN, max_length=SKU_MAX_LENGTH)
    product_id = forms.RegexField(PRODUCT_ID_PATTERN, max_length=PRODUCT_ID_MAX_LENGTH)
    name = forms.CharField(max_length=200)
    price = forms.DecimalField(max_digits=12, decimal_places=2, min_value=0)
    currency = forms.RegexField(r"^[A-Z]{3}$", initial="USD")
    active = forms.BooleanField(required=False, initial=True)
    total_quantity = forms.IntegerField(min_value=0, max_value=MAX_QUANTITY, initial=0,
                                        help_text="Initial stock (later: the receive action).")
    weight_kg = forms.DecimalField(max_digits=8, decimal_places=3, min_value=Decimal("0.001"),
                                   required=False, help_text="One packed unit, for shipping.")
    length_cm = forms.DecimalField(max_digits=6, decimal_places=1, min_value=Decimal("0.1"),
                                   required=False)
    width_cm = forms.DecimalField(max_digits=6, decimal_places=1, min_value=Decimal("0.1"),
                                  required=False)
    height_cm = forms.DecimalField(max_digits=6, decimal_places=1, min_value=Decimal("0.1"),
                                   required=False)

    class Meta:
        model = InventoryItem
        fields = ["low_stock_threshold", "reorder_point", "reorder_quantity"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            catalog = self.instance.catalog
            for field in ("sku", "product_id", "name", "currency", "active", *MEASURES):
                self.initial[field] = getattr(catalog, field)
            self.initial["price"] = catalog.unit_price
            # The sku is the stream's identity and the product grouping is fixed.
            for field in ("sku", "product_id", "total_quantity"):
                self.fields[field].disabled = True
                self.fields[field].required = False

    def clean_sku(self):
        sku = self.cleaned_data["sku"]
        if not self.instance.pk and InventoryItem.objects.filter(sku=sku).exists():
            raise forms.ValidationError("An item with this sku already exists.")
        return sku


class ReceiveStockForm(forms.Form):
    quantity = forms.IntegerField(min_value=1, max_value=MAX_QUANTITY)
    reason = forms.CharField(max_length=200, required=False)


@admin.register(InventoryItem)
class InventoryItemAdmin(admin.ModelAdmin):
    form = InventoryItemForm
    list_display = ["sku", "item_name", "price", "item_active", "total", "reserved", "available",
                    "low_stock_threshold", "reorder_point", "low"]
    list_filter = [LowStockFilter, "catalog__active"]
    search_fields = ["sku", "catalog__name", "product_id"]
    list_select_related = ["catalog"]
    readonly_fields = ["total", "reserved", "available", "updated_at", "movement_history"]
    actions = ["receive_stock"]
    fieldsets = [
        ("Catalog", {"fields": ["sku", "product_id", "name", "price", "currency", "active"]}),
        ("Shipping", {"fields": list(MEASURES)}),
        ("Stock", {"fields": ["total_quantity", "total", "reserved", "available",
                              "low_stock_threshold", "reorder_point", "reorder_quantity",
                              "updated_at"]}),
        ("History", {"fields": ["movement_history"]}),
    ]

    @admin.display(description="name", ordering="catalog__name")
    def item_name(self, obj):
        return obj.catalog.name

    @admin.display(description="price", ordering="catalog__unit_price")
    def price(self, obj):
        return f"{obj.catalog.unit_price} {obj.catalog.currency}"

    @admin.display(description="active", boolean=True, ordering="catalog__active")
    def item_active(self, obj):
        return obj.catalog.active

    @admin.display(description="low", boolean=True)
    def low(self, obj):
        return obj.is_low_stock

    @admin.display(description="latest movements")
    def movement_history(self, obj):
        if not obj.pk:
            return "-"
        rows = list(StockMovement.objects.filter(sku=obj.sku).order_by("-position")[:20])
        emails = actor_emails(m.actor for m in rows)
        url = reverse("admin:inventory_stockmovement_changelist") + f"?sku={obj.sku}"
        table = format_html_join(
            "", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            ((m.created_at.strftime("%Y-%m-%d %H:%M:%S"), m.kind, m.total_delta,
              m.reserved_delta, m.reason, emails.get(m.actor, "")) for m in rows),
        )
        return format_html(
            '<table><tr><th>when</th><th>kind</th><th>Δ total</th><th>Δ reserved</th>'
            '<th>reason</th><th>actor</th></tr>{}</table><a href="{}">full history</a>',
            table, url)

    def has_delete_permission(self, request, obj=None):
        return False  # stock history must stay auditable; deactivate instead

    def has_receive_stock_permission(self, request):
        return roles.can(request.user, "inventory.receive_stock")

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        measures = {m: data.get(m) for m in MEASURES}
        if change:
            item = services.item_update(
                sku=obj.sku, name=data["name"], price=data["price"],
                currency=data["currency"], active=data["active"],
                low_stock_threshold=data["low_stock_threshold"],
                reorder_point=data["reorder_point"],
                reorder_quantity=data["reorder_quantity"], **measures)
        else:
            item = services.item_create(
                sku=data["sku"], product_id=data["product_id"], name=data["name"],
                price=data["price"], currency=data["currency"], active=data["active"],
                total_quantity=data["total_quantity"],
                low_stock_threshold=data["low_stock_threshold"],
                reorder_point=data["reorder_point"],
                reorder_quantity=data["reorder_quantity"], **measures)
        obj.pk = obj.id = item.id
        obj.sku = item.sku

    @admin.action(description="Receive stock for the selected items",
                  permissions=["receive_stock"])
    def receive_stock(self, request, queryset):
        items = list(queryset.select_related("catalog").order_by("sku"))
        form = ReceiveStockForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            try:
                for item in items:
                    received = services.stock_receive(sku=item.sku, **form.cleaned_data)
                    reason = form.cleaned_data.get("reason") or ""
                    self.log_change(request, received, f"Received {form.cleaned_data['quantity']}"
                                                       f" units. {reason}".strip())
            except DomainError as exc:
                self.message_user(request, exc.message, messages.ERROR)
                return None
            self.message_user(request, f"Received {form.cleaned_data['quantity']} units for "
                                       f"{len(items)} item(s).", messages.SUCCESS)
            return None
        return render(request, "admin/inventory/receive_stock.html",
                      {**self.admin_site.each_context(request), "items": items, "form": form,
                       "title": "Receive stock"})


class ReservationLineInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ReservationLine
    fields = ["sku", "quantity", "fulfilled_quantity", "restocked_quantity"]
    extra = 0


@admin.register(Reservation)
class ReservationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["short_id", "short_order_id", "status", "expires_at", "reason",
                    "created_at", "updated_at"]
    list_filter = ["status"]
    search_fields = ["id", "order_id"]
    inlines = [ReservationLineInline]
    ordering = ["-created_at"]

    @admin.display(description="reservation", ordering="id")
    def short_id(self, obj):
        return compact_id_html(obj.id)

    @admin.display(description="order", ordering="order_id")
    def short_order_id(self, obj):
        return compact_id_html(obj.order_id)


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "sku", "kind", "quantity", "total_delta", "reserved_delta",
                    "reason", "short_order_id", "actor_email"]
    list_filter = ["kind"]
    search_fields = ["sku", "order_id", "reservation_id", "actor"]
    ordering = ["-position"]

    @admin.display(description="order", ordering="order_id")
    def short_order_id(self, obj):
        return compact_id_html(obj.order_id)

    @admin.display(description="actor", ordering="actor")
    def actor_email(self, obj):
        return obj.actor_email or obj.actor or "-"

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(actor_email=actor_email_subquery())

