"""Back office for sagas: list with status filter, each saga's steps (attempts, timings,
errors), and repair actions that call the saga services."""

from django.contrib import admin, messages

from commerce.accounts import roles
from commerce.core import context
from commerce.core.admin import compact_id_html
from commerce.core.errors import DomainError
from sagas import services
from sagas.models import SagaInstance, SagaStatus, SagaStep


class SagaStepInline(admin.TabularInline):
    model = SagaStep
    extra = 0
    can_delete = False
    fields = ["step", "action", "status", "attempts", "started_at", "finished_at",
              "duration_ms", "last_error"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(SagaInstance)
class SagaInstanceAdmin(admin.ModelAdmin):
    list_display = ["short_id", "saga_type", "short_correlation_id", "status", "current_step",
                    "attempts", "deadline", "last_error_short", "created_at", "updated_at"]
    list_filter = ["status", "saga_type"]
    search_fields = ["=id", "=correlation_id"]
    ordering = ["-created_at"]
    inlines = [SagaStepInline]
    readonly_fields = [f.name for f in SagaInstance._meta.fields]
    actions = ["retry_failed_step", "resume_forward", "force_compensation", "approve_cancellation",
               "reject_cancellation"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="saga", ordering="id")
    def short_id(self, obj):
        return compact_id_html(obj.id)

    @admin.display(description="order", ordering="correlation_id")
    def short_correlation_id(self, obj):
        return compact_id_html(obj.correlation_id)

    # Actions name these (allowed_permissions): repairs are sagas.repair_saga; deciding on
    # a cancellation is the same permission as in the API.
    def has_repair_permission(self, request):
        return roles.can(request.user, "sagas.repair_saga")

    def has_approve_cancellation_permission(self, request):
        return roles.can(request.user, "orders.approve_cancellation")

    @admin.display(description="last error")
    def last_error_short(self, obj):
        return (obj.last_error or "")[:80]

    def _apply(self, request, queryset, fn, done: str):
        ok = 0
        for saga in queryset:
            try:
                fn(saga)
                ok += 1
                self.log_change(request, saga, f"Saga {done} in the back office.")
            except DomainError as exc:
                self.message_user(request, f"{saga.id}: {exc.message}", messages.ERROR)
        if ok:
            self.message_user(request, f"{ok} saga(s) {done}.", messages.SUCCESS)

    @admin.action(description="Retry failed step", permissions=["repair"])
    def retry_failed_step(self, request, queryset):
        self._apply(request, queryset, lambda s: services.saga_retry(saga_id=s.id), "retried")

    @admin.action(description="Resume forward from the refused step", permissions=["repair"])
    def resume_forward(self, request, queryset):
        self._apply(request, queryset, lambda s: services.saga_resume_forward(saga_id=s.id),
                    "resumed")

    @admin.action(description="Force compensation", permissions=["repair"])
    def force_compensation(self, request, queryset):
        self._apply(request, queryset, lambda s: services.saga_force_compensation(
            saga_id=s.id, reason=f"forced in admin by {request.user}"), "compensating")

    @admin.action(description="Approve cancellation",
                  permissions=["approve_cancellation"])
    def approve_cancellation(self, request, queryset):
        self._apply(request, queryset.filter(status=SagaStatus.AWAITING_APPROVAL),
                    lambda s: services.saga_decide_approval(
                        saga_id=s.id, approve=True, reason="approved in admin",
                        actor=context.actor_label(request.user)), "approved")

    @admin.action(description="Reject cancellation",
                  permissions=["approve_cancellation"])
    def reject_cancellation(self, request, queryset):
        self._apply(request, queryset.filter(status=SagaStatus.AWAITING_APPROVAL),
                    lambda s: services.saga_decide_approval(
                        saga_id=s.id, approve=False, reason="rejected in admin",
                        actor=context.actor_label(request.user)), "rejected")
