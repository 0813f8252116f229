"""Back office: deliveries (filters, resend), template overrides with a preview against a
sample event, webhook endpoints (enable/disable) and their deliveries with every attempt."""

import contextlib

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.template import TemplateDoesNotExist, TemplateSyntaxError
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from commerce.accounts import roles
from notifications import delivery, kinds, rendering, webhooks
from notifications.models import (
    Delivery,
    DeliveryStatus,
    NotificationPreference,
    TemplateOverride,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from notifications.samples import sample_context


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ("created_at", "kind", "channel", "recipient", "status", "attempts",
                    "provider_message_id")
    list_filter = ("status", "channel", "kind", "language", "created_at")
    search_fields = ("recipient", "provider_message_id", "=event_id", "=order_id")
    date_hierarchy = "created_at"
    actions = ["resend"]
    readonly_fields = [f.name for f in Delivery._meta.fields]

    def has_change_permission(self, request, obj=None):
        return False  # deliveries are a record; "resend" is the one thing staff do to them

    def has_add_permission(self, request):
        return False

    def has_resend_permission(self, request):
        return roles.can(request.user, "notifications.resend_delivery")

    @admin.action(description="Resend the selected messages", permissions=["resend"])
    def resend(self, request, queryset):
        count = 0
        for d in queryset.exclude(status=DeliveryStatus.QUEUED):
            delivery.delivery_resend(delivery_id=d.pk)
            count += 1
        self.message_user(request, f"{count} message(s) queued to be sent again.")


class TemplateOverrideForm(forms.ModelForm):
    file = forms.ChoiceField(choices=[(f, f) for f in sorted(
        {name for files in kinds.CHANNEL_FILES.values() for name in files})])

    class Meta:
        model = TemplateOverride
        fields = ["kind", "channel", "file", "language", "source", "active"]
        widgets = {"source": forms.Textarea(attrs={"rows": 24, "cols": 110,
                                                   "style": "font-family: monospace"})}

    def clean(self):
        data = super().clean()
        kind, channel, file = data.get("kind"), data.get("channel"), data.get("file")
        if kind and channel and file:
            if channel not in kinds.KINDS[kind].channels:
                self.add_error("channel", f"{kind} is not sent by {channel}.")
            elif file not in kinds.CHANNEL_FILES[channel]:
                self.add_error("file", f"{channel} uses {', '.join(kinds.CHANNEL_FILES[channel])}.")
        if data.get("source"):
            try:
                rendering.compile_source(data["source"])
            except TemplateSyntaxError as exc:
                self.add_error("source", f"Template error: {exc}")
        return data


@admin.register(TemplateOverride)
class TemplateOverrideAdmin(admin.ModelAdmin):
    """Overrides replace the template file of the same kind/file/language at once (no
    deploy); blank language applies to every language without its own override. Adding one
    starts from the shipped file (?kind=…&file=…). "Preview" renders with a sample event."""

    form = TemplateOverrideForm
    list_display = ("kind", "channel", "file", "language", "active", "updated_by",
                    "updated_at", "preview_link")
    list_filter = ("kind", "channel", "language", "active")
    readonly_fields = ("rendered_preview",)
    change_list_template = "admin/notifications/templateoverride/change_list.html"

    def get_urls(self):
        return [path("preview/", self.admin_site.admin_view(self.preview_view),
                     name="notifications_templateoverride_preview"), *super().get_urls()]

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        kind, file = request.GET.get("kind"), request.GET.get("file")
        if kind in kinds.KINDS and file:
            channel = next((c for c, files in kinds.CHANNEL_FILES.items() if file in files), "")
            initial.update(channel=channel)
            with contextlib.suppress(TemplateDoesNotExist):  # no such file: start empty
                initial["source"] = rendering.file_source(kind, file)
        return initial

    def save_model(self, request, obj, form, change):
        obj.updated_by = request.user.email
        super().save_model(request, obj, form, change)

    @admin.display(description="preview")
    def preview_link(self, obj):
        url = reverse("admin:notifications_templateoverride_preview")
        return format_html('<a href="{}?kind={}&channel={}&language={}">preview</a>', url,
                           obj.kind, obj.channel, obj.language or "en")

    @admin.display(description="rendered with a sample event")
    def rendered_preview(self, obj):
        if obj is None or not obj.pk:
            return "Save to see it rendered."
        result = rendering.render(kind=obj.kind, channel=obj.channel,
                                  language=obj.language or None,
                                  context=sample_context(obj.kind),
                                  overrides={obj.file: obj.source})
        part = result.html if obj.file.endswith(".html") else result.body
        return format_html("<div><strong>{}</strong></div><pre style='white-space: pre-wrap'>"
                           "{}</pre>", result.subject, part)

    def preview_view(self, request):
        """Every template (or one kind/channel/language) rendered with a sample event:
        what a customer would see now, overrides included."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        language = rendering.language_or_default(request.GET.get("language"))
        wanted_kind, wanted_channel = request.GET.get("kind"), request.GET.get("channel")
        previews = []
        for kind in kinds.KINDS.values():
            if wanted_kind and kind.name != wanted_kind:
                continue
            for channel in kind.channels:
                if wanted_channel and channel != wanted_channel:
                    continue
                result = rendering.render(kind=kind.name, channel=channel, language=language,
                                          context=sample_context(kind.name))
                previews.append({"kind": kind, "channel": channel, "result": result,
                                 "files": kinds.CHANNEL_FILES[channel]})
        context = {**self.admin_site.each_context(request), "title": "Template preview",
                   "previews": previews, "language": language,
                   "languages": settings.LANGUAGES, "opts": self.model._meta}
        return TemplateResponse(request, "admin/notifications/templateoverride/preview.html",
                                context)


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ("user", "language", "phone_number", "updated_at")
    search_fields = ("user__email", "phone_number")
    raw_id_fields = ("user",)


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(max_length=1000, assume_scheme="https")

    class Meta:
        model = WebhookEndpoint
        fields = ["name", "url", "event_types", "secret", "is_active"]


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ("name", "url", "is_active", "consecutive_failures", "disabled_at")
    list_filter = ("is_active",)
    search_fields = ("name", "url")
    readonly_fields = ("consecutive_failures", "disabled_at", "disabled_reason", "created_at")
    actions = ["enable", "disable"]

    @admin.action(description="Enable (resume deliveries)", permissions=["change"])
    def enable(self, request, queryset):
        for endpoint in queryset:
            webhooks.webhook_endpoint_enable(endpoint_id=endpoint.pk)
        self.message_user(request, f"{queryset.count()} endpoint(s) enabled.")

    @admin.action(description="Disable", permissions=["change"])
    def disable(self, request, queryset):
        for endpoint in queryset:
            webhooks.webhook_endpoint_disable(endpoint_id=endpoint.pk,
                                              reason=f"disabled by {request.user.email}")
        self.message_user(request, f"{queryset.count()} endpoint(s) disabled.",
                          messages.WARNING)


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    fields = ("attempt", "attempted_at", "status_code", "latency_ms", "error",
              "response_excerpt")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("attempt",)

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ("created_at", "endpoint", "event_type", "aggregate_id",
                    "aggregate_version", "status", "attempts", "last_status_code")
    list_filter = ("status", "endpoint", "event_type")
    search_fields = ("=event_id", "=aggregate_id")
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]
    inlines = [WebhookAttemptInline]
    actions = ["retry"]

    def has_add_permission(self, request):
        return False

    def has_redeliver_permission(self, request):
        return roles.can(request.user, "notifications.redeliver_webhookdelivery")

    @admin.action(description="Deliver again", permissions=["redeliver"])
    def retry(self, request, queryset):
        for d in queryset:
            webhooks.webhook_delivery_retry(delivery_id=d.pk)
        self.message_user(request, f"{queryset.count()} delivery(ies) queued again.")
