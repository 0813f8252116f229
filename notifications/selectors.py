from django.db.models import Prefetch, QuerySet

from commerce.core.errors import NotFound
from notifications.webhook_models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


def webhook_endpoint_list() -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.order_by("name", "id")


def webhook_endpoint_get(*, endpoint_id) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id).first()
    if endpoint is None:
        raise NotFound("Webhook endpoint not found.")
    return endpoint


def webhook_delivery_list(*, endpoint_id) -> QuerySet[WebhookDelivery]:
    return (WebhookDelivery.objects.filter(endpoint_id=endpoint_id)
            .prefetch_related(Prefetch("attempt_log",
                                       queryset=WebhookAttempt.objects.order_by("attempt")))
            .order_by("-created_at", "-id"))
