"""Mounted under /api/v1/."""

from django.urls import path

from notifications import apis, receipts

urlpatterns = [
    path("me/notification-preferences/", apis.NotificationPreferencesApi.as_view(),
         name="notification-preferences"),
    path("webhooks/endpoints/", apis.WebhookEndpointListApi.as_view(),
         name="webhook-endpoint-list"),
    path("webhooks/endpoints/<uuid:endpoint_id>/", apis.WebhookEndpointDetailApi.as_view(),
         name="webhook-endpoint-detail"),
    path("webhooks/endpoints/<uuid:endpoint_id>/enable/",
         apis.WebhookEndpointEnableApi.as_view(), name="webhook-endpoint-enable"),
    path("webhooks/endpoints/<uuid:endpoint_id>/deliveries/",
         apis.WebhookDeliveryListApi.as_view(), name="webhook-delivery-list"),
    path("notifications/receipts/sms/", receipts.SmsReceiptApi.as_view(),
         name="notification-receipt-sms"),
    path("notifications/receipts/push/", receipts.PushReceiptApi.as_view(),
         name="notification-receipt-push"),
    path("notifications/receipts/email/", receipts.EmailReceiptApi.as_view(),
         name="notification-receipt-email"),
]
