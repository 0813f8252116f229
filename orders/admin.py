"""Order back office. The read model is shown read-only (the status is never a form field);
every change is a lifecycle transition offered as a button on the order page or a bulk
action, calling the same services as the API with the staff user bound as the event actor,
and each one that succeeds writes a LogEntry (the page's History, "Recent actions")."""

import json
import uuid
from decimal import Decimal, InvalidOperation

from django.contrib import admin, messages
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from commerce.accounts import roles
from commerce.core.admin import ReadOnlyAdminMixin, actor_emails, compact_id_html
from commerce.core.errors import DomainError, ValidationFailed
from orders import lifecycle, selectors, services
from orders.models import OrderLine, OrderView
from orders.serializers import ANY_STAFF, api_actions

# Staff actions offered in the back office → (label, service call(order_id, POST data)).
STAFF_ACTIONS = {
    "ship": ("Ship", lambda oid, data: services.order_ship(
        order_id=oid, carrier=data.get("carrier", ""),
        tracking_number=data.get("tracking_number", ""))),
    "deliver": ("Mark delivered", lambda oid, data: services.order_deliver(order_id=oid)),
    "complete": ("Complete", lambda oid, data: services.order_complete(order_id=oid)),
    "request_cancellation": ("Request cancellation", lambda oid, data:
                             services.order_request_cancellation(
                                 order_id=oid, reason=data.get("reason") or "staff request")),
    "request_refund": ("Refund", lambda oid, data: services.order_request_refund(
        order_id=oid, amount=_amount(data.get("amount")), reason=data.get("reason") or "",
        refund_id=data.get("refund_id") or uuid.uuid4())),
    "archive": ("Archive", lambda oid, data: services.order_archive(order_id=oid)),
}
# The permission each action needs (the API asks the same ones: orders/apis.py).
ACTION_PERMISSIONS = {
    "ship": "orders.ship_order", "deliver": "orders.ship_order",
    "complete": "orders.ship_order", "request_cancellation": "orders.cancel_order",
    "archive": "orders.archive_order", "request_refund": "orders.refund_order",
}


def may(request, action: str) -> bool:
    return action in STAFF_ACTIONS and roles.can(request.user, ACTION_PERMISSIONS[action])


def _amount(value) -> Decimal:
    try:
        return Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationFailed("The amount must be a decimal number, e.g. 12.50.") from None


def _describe(action: str, data) -> str:
    if action == "ship":
        return f"Shipped with {data.get('carrier', '')} {data.get('tracking_number', '')}"
    if action == "request_refund":
        return f"Refund of {data.get('amount')} requested: {data.get('reason', '')}"
    if action == "request_cancellation":
        return f"Cancellation requested: {data.get('reason', '')}"
    return STAFF_ACTIONS[action][0]


def run_action(modeladmin, request, order_id, action: str, data) -> bool:
    """Run one staff action as the logged-in user; report the outcome as a message and
    record it as a LogEntry."""
    label, call = STAFF_ACTIONS[action]
    try:
        order = call(order_id, data)
    except DomainError as exc:
        messages.error(request, f"{label} refused for {order_id}: {exc.message}")
        return False
    modeladmin.log_change(request, order, _describe(action, data))
    messages.success(request, f"{label}: order {order_id} done.")
    return True


class OrderLineInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = OrderLine
    fields = ["line_no", "sku", "name", "unit_price", "quantity", "line_total"]
    readonly_fields = fields
    extra = 0


def _bulk(action):
    def bulk_action(modeladmin, request, queryset):
        for order_id in queryset.values_list("pk", flat=True):
            run_action(modeladmin, request, order_id, action, {})

    bulk_action.short_description = f"{STAFF_ACTIONS[action][0]} selected orders"
    bulk_action.__name__ = f"bulk_{action}"
    # ModelAdmin offers the action only to users for whom has_<name>_permission is true.
    bulk_action.allowed_permissions = (action,)
    return bulk_action


@admin.register(OrderView)
class OrderViewAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["short_id", "customer_email", "status", "cancellation_pending",
                    "total_amount", "currency", "item_count", "created_at", "archived"]
    list_filter = ["status", "cancellation_pending", "archived", "channel",
                   ("created_at", admin.DateFieldListFilter)]
    search_fields = ["customer__email"]
    search_help_text = "An order id (exact) or part of the customer's email."
    date_hierarchy = "created_at"
    list_select_related = ["customer"]
    ordering = ["-created_at", "-order_id"]
    inlines = [OrderLineInline]
    actions = [_bulk(a) for a in ("ship", "deliver", "complete", "archive")]
    change_form_template = "admin/orders/orderview/change_form.html"
    fieldsets = [
        ("Order", {"fields": ["order_id", "customer_email", "status", "cancellation_pending",
                              "archived", "allowed_actions", "version", "created_at",
                              "updated_at", "channel"]}),
        ("Totals", {"fields": ["currency", "subtotal", "shipping_total", "discount_total",
                               "tax_total", "total_amount", "captured_amount",
                               "refunded_amount", "item_count"]}),
        ("Delivery", {"fields": ["shipping_address", "notes", "carrier", "tracking_number",
                                 "shipment_id", "reservation_id"]}),
        ("Payment and outcome", {"fields": ["payment_method", "payment_id", "failure_code",
                                            "failure_reason", "cancellation_reason"]}),
        ("History", {"fields": ["event_history"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        # Everything: changes happen only through transitions.
        return [f for fs in self.fieldsets for f in fs[1]["fields"]]

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        try:
            return queryset.filter(pk=uuid.UUID(term)), False
        except ValueError:
            return super().get_search_results(request, queryset, term)

    # --- permissions: viewing is orders.view_orderview (Django's default); each action asks
    # its own permission (ACTION_PERMISSIONS); nobody adds, edits or deletes ---------------
    def has_ship_permission(self, request):
        return may(request, "ship")

    def has_deliver_permission(self, request):
        return may(request, "deliver")

    def has_complete_permission(self, request):
        return may(request, "complete")

    def has_archive_permission(self, request):
        return may(request, "archive")

    # --- display ----------------------------------------------------------------------
    @admin.display(description="order", ordering="order_id")
    def short_id(self, obj):
        return compact_id_html(obj.order_id)

    @admin.display(description="customer", ordering="customer__email")
    def customer_email(self, obj):
        return obj.customer.email if obj.customer_id else "-"

    @admin.display(description="allowed actions")
    def allowed_actions(self, obj):
        # The API's names (what a support tool would call), as the API lists them.
        return ", ".join(api_actions(obj, caller=ANY_STAFF)) or "-"

    @admin.display(description="event history")
    def event_history(self, obj):
        events = selectors.order_events(order_id=obj.order_id)
        emails = actor_emails(e.metadata.get("actor") for e in events)
        rows = format_html_join(
            "", '<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td>'
                '<td><pre class="event-data">{}</pre></td></tr>',
            ((e.version, e.created_at.strftime("%Y-%m-%d %H:%M:%S"), e.event_type,
              emails.get(e.metadata.get("actor"), "system"),
              json.dumps(e.data, indent=2, sort_keys=True, ensure_ascii=False))
             for e in events))
        return format_html(
            '<table class="event-history"><thead><tr><th>v</th><th>at</th><th>event</th>'
            "<th>actor</th><th>data</th></tr></thead><tbody>{}</tbody></table>", rows)

    # --- transition buttons -------------------------------------------------------------
    def get_urls(self):
        return [
            path("<uuid:order_id>/transition/<str:action>/",
                 self.admin_site.admin_view(self.transition_view),
                 name="orders_orderview_transition"),
            *super().get_urls(),
        ]

    def transition_view(self, request, order_id, action):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        order = get_object_or_404(OrderView, pk=order_id)
        if not may(request, action):
            messages.error(request, "You cannot do that.")
        else:
            run_action(self, request, order.order_id, action, request.POST)
        return HttpResponseRedirect(reverse("admin:orders_orderview_change", args=[order_id]))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        order = OrderView.objects.filter(pk=object_id).first()
        if order is not None:
            allowed = lifecycle.allowed_actions(
                order.lifecycle(), by=frozenset({lifecycle.CUSTOMER, lifecycle.STAFF}))
            refundable = order.captured_amount - order.refunded_amount
            extra_context["transitions"] = [
                {"action": a, "label": STAFF_ACTIONS[a][0],
                 "url": reverse("admin:orders_orderview_transition", args=[order.pk, a])}
                for a in allowed if may(request, a)
                and (a != "request_refund" or refundable > 0)
            ]
            # A fresh id per rendered form: submitting the same form twice refunds once.
            extra_context["refund"] = {"refundable": refundable, "refund_id": uuid.uuid4()}
        return super().change_view(request, object_id, form_url, extra_context)
