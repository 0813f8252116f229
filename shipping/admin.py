"""Shipping back office: shipments with their tracking timeline and label download, "create
shipment" for selected lines of an order, and the returns queue with approve / reject /
receive. Rows are read models (read-only); every button calls the same service as the API,
with the staff user as the event actor, and leaves a LogEntry."""

from django.contrib import admin, messages
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.html import format_html

from commerce.accounts import roles
from commerce.core.admin import ReadOnlyAdminMixin
from commerce.core.errors import DomainError
from orders.models import OrderView
from shipping import carriers, returns, selectors, services
from shipping.apis import pdf_response
from shipping.carriers.base import SERVICE_LEVELS
from shipping.models import ReturnLine, ReturnRequest, Shipment, ShipmentLine, TrackingEvent


def _run(admin_obj, request, obj, label: str, call) -> bool:
    """Run one staff action; report it as a message and a LogEntry."""
    try:
        call()
    except DomainError as exc:
        messages.error(request, f"{label} refused: {exc.message}")
        return False
    admin_obj.log_change(request, obj, label)
    messages.success(request, f"{label}: done.")
    return True


class StaffInline(ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0


class ShipmentLineInline(StaffInline):
    model = ShipmentLine
    fields = ["line_no", "sku", "quantity"]
    readonly_fields = fields
    extra = 0


class TrackingEventInline(StaffInline):
    model = TrackingEvent
    verbose_name_plural = "tracking timeline"
    fields = ["occurred_at", "status", "code", "description", "location", "source",
              "recorded_at"]
    readonly_fields = fields
    ordering = ["occurred_at", "recorded_at"]
    extra = 0


@admin.register(Shipment)
class ShipmentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["short_id", "order_link", "carrier", "service_level", "tracking_number",
                    "status", "created_at", "last_event_at", "delivered_at"]
    list_filter = ["status", "carrier", "service_level"]
    search_fields = ["tracking_number", "=order_id", "=shipment_id"]
    search_help_text = "A tracking number, an order id or a shipment id (exact)."
    date_hierarchy = "created_at"
    inlines = [ShipmentLineInline, TrackingEventInline]
    change_form_template = "admin/shipping/shipment/change_form.html"
    change_list_template = "admin/shipping/shipment/change_list.html"
    fields = ["shipment_id", "order_link", "carrier", "service_level", "service_code",
              "tracking_number", "status", "label_link", "label_cost", "label_currency",
              "parcel", "failure_code", "failure_message", "cancel_reason", "created_at",
              "updated_at", "last_event_at", "delivered_at"]
    readonly_fields = fields

    @admin.display(description="id")
    def short_id(self, obj):
        return str(obj.pk)[:8]

    @admin.display(description="order")
    def order_link(self, obj):
        url = reverse("admin:orders_orderview_change", args=[obj.order_id])
        return format_html('<a href="{}">{}</a>', url, str(obj.order_id)[:8])

    @admin.display(description="label")
    def label_link(self, obj):
        if not obj.label_url:
            return "-"
        url = reverse("admin:shipping_shipment_label", args=[obj.pk])
        return format_html('<a href="{}" target="_blank">Download label (PDF)</a>', url)

    # --- views: label download, buttons, create shipment ----------------------------
    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("create/", view(self.create_view), name="shipping_shipment_create"),
            path("<uuid:shipment_id>/label/", view(self.label_view),
                 name="shipping_shipment_label"),
            *(path(f"<uuid:shipment_id>/{action}/", view(self.action_view),
                   {"action": action}, name=f"shipping_shipment_{action.replace('-', '_')}")
              for action in ("purchase-label", "void")),
            *super().get_urls(),
        ]

    def label_view(self, request, shipment_id):
        return pdf_response(selectors.label_get(label_id=shipment_id))

    def action_view(self, request, shipment_id, action):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        shipment = selectors.shipment_get(shipment_id=shipment_id)
        calls = {"purchase-label": ("Buy label", lambda: services.shipment_purchase_label(
                     shipment_id=shipment_id)),
                 "void": ("Void label", lambda: services.shipment_void(
                     shipment_id=shipment_id, reason=request.POST.get("reason", "")))}
        perm = {"purchase-label": "shipping.create_shipment", "void": "shipping.void_shipment"}
        if action not in calls or not roles.can(request.user, perm[action]):
            messages.error(request, "You cannot do that.")
        else:
            _run(self, request, shipment, *calls[action])
        return HttpResponseRedirect(reverse("admin:shipping_shipment_change",
                                            args=[shipment_id]))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        shipment = Shipment.objects.filter(pk=object_id).first()
        extra_context = extra_context or {}
        if shipment is not None:
            extra_context["buttons"] = [
                {"action": a, "label": label,
                 "url": reverse(f"admin:shipping_shipment_{a.replace('-', '_')}",
                                args=[shipment.pk])}
                for a, label, allowed in (
                    ("purchase-label", "Buy label", shipment.status in services.PURCHASABLE
                     and roles.can(request.user, "shipping.create_shipment")),
                    ("void", "Void label / cancel shipment", shipment.status in services.CANCELLABLE
                     and roles.can(request.user, "shipping.void_shipment")))
                if allowed]
        return super().change_view(request, object_id, form_url, extra_context)

    def create_view(self, request):
        """Pick an order waiting to ship, then the units of each line for this parcel."""
        if not roles.can(request.user, "shipping.create_shipment"):
            messages.error(request, "You cannot do that.")
            return HttpResponseRedirect(reverse("admin:shipping_shipment_changelist"))
        order_id = request.GET.get("order_id") or request.POST.get("order_id")
        context = {**self.admin_site.each_context(request), "title": "Create shipment",
                   "opts": self.model._meta, "carriers": carriers.enabled(),
                   "levels": SERVICE_LEVELS}
        if not order_id:
            context["orders"] = OrderView.objects.filter(
                status__in=("confirmed", "partially_shipped"), cancellation_pending=False
            ).order_by("created_at")[:100]
            return render(request, "admin/shipping/shipment/create.html", context)
        order = OrderView.objects.filter(pk=order_id).first()
        if order is None:
            messages.error(request, "No such order.")
            return HttpResponseRedirect(reverse("admin:shipping_shipment_create"))
        lines = selectors.unshipped_lines(order_id=order.order_id)
        if request.method == "POST":
            chosen = [{"sku": row["sku"], "quantity": int(request.POST.get(f"qty_{row['sku']}")
                                                         or 0)} for row in lines]
            chosen = [line for line in chosen if line["quantity"] > 0]
            created = []

            def create():
                created.append(services.shipment_create(
                    order_id=order.order_id, lines=chosen,
                    carrier=request.POST.get("carrier") or None,
                    service_level=request.POST.get("service_level") or None))

            if _run(self, request, order, "Create shipment", create):
                return HttpResponseRedirect(reverse("admin:shipping_shipment_change",
                                                    args=[created[0].pk]))
        context.update(order=order, lines=lines)
        return render(request, "admin/shipping/shipment/create.html", context)


class ReturnLineInline(StaffInline):
    model = ReturnLine
    fields = ["line_no", "sku", "quantity", "received_quantity", "disposition"]
    readonly_fields = fields
    extra = 0


@admin.register(ReturnRequest)
class ReturnRequestAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["short_id", "order_link", "status", "reason_text", "requested_at",
                    "decided_at", "received_at", "refund_amount"]
    list_filter = ["status"]
    search_fields = ["=order_id", "=return_id", "tracking_number"]
    ordering = ["requested_at"]
    inlines = [ReturnLineInline]
    change_form_template = "admin/shipping/returnrequest/change_form.html"
    fields = ["return_id", "order_link", "status", "reason", "decision_reason", "carrier",
              "service_level", "tracking_number", "label_link", "goods_refund",
              "shipping_refund", "refund_amount", "refund_id", "requested_at", "decided_at",
              "received_at"]
    readonly_fields = fields

    short_id = ShipmentAdmin.short_id
    order_link = ShipmentAdmin.order_link

    @admin.display(description="reason")
    def reason_text(self, obj):
        return obj.reason[:60]

    @admin.display(description="return label")
    def label_link(self, obj):
        if not obj.label_url:
            return "-"
        url = reverse("admin:shipping_returnrequest_label", args=[obj.pk])
        return format_html('<a href="{}" target="_blank">Download return label (PDF)</a>',
                           url)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<uuid:return_id>/label/", view(self.label_view),
                 name="shipping_returnrequest_label"),
            *(path(f"<uuid:return_id>/{action}/", view(self.action_view), {"action": action},
                   name=f"shipping_returnrequest_{action}")
              for action in ("approve", "reject", "receive")),
            *super().get_urls(),
        ]

    def label_view(self, request, return_id):
        return pdf_response(selectors.label_get(label_id=return_id))

    def action_view(self, request, return_id, action):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        found = selectors.return_get(return_id=return_id)
        data = request.POST
        calls = {
            "approve": ("Approve return", "shipping.decide_return", lambda: returns.return_approve(
                return_id=return_id, carrier=data.get("carrier") or None,
                service_level=data.get("service_level") or None)),
            "reject": ("Reject return", "shipping.decide_return", lambda: returns.return_reject(
                return_id=return_id, reason=data.get("reason", ""))),
            "receive": ("Receive return", "shipping.receive_return", lambda: returns.return_receive(
                return_id=return_id, lines=[
                    {"sku": line.sku, "quantity": int(data.get(f"qty_{line.sku}") or 0),
                     "disposition": data.get(f"disposition_{line.sku}", "restock")}
                    for line in found.lines.all() if int(data.get(f"qty_{line.sku}") or 0)])),
        }
        if action not in calls or not roles.can(request.user, calls[action][1]):
            messages.error(request, "You cannot do that.")
        else:
            label, _, call = calls[action]
            _run(self, request, found, label, call)
        return HttpResponseRedirect(reverse("admin:shipping_returnrequest_change",
                                            args=[return_id]))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        found = ReturnRequest.objects.filter(pk=object_id).first()
        extra_context = extra_context or {}
        if found is not None:
            extra_context.update(
                return_status=found.status, carriers=carriers.enabled(), levels=SERVICE_LEVELS,
                return_lines=list(found.lines.all()),
                can_decide=roles.can(request.user, "shipping.decide_return"),
                can_receive=roles.can(request.user, "shipping.receive_return"),
                approve_url=reverse("admin:shipping_returnrequest_approve", args=[found.pk]),
                reject_url=reverse("admin:shipping_returnrequest_reject", args=[found.pk]),
                receive_url=reverse("admin:shipping_returnrequest_receive", args=[found.pk]))
        return super().change_view(request, object_id, form_url, extra_context)

