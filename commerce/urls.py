from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from commerce.core import health

api_v1 = [
    path("auth/", include("commerce.accounts.urls")),
    path("catalog/", include("inventory.catalog_urls")),
    path("inventory/", include("inventory.urls")),
    path("orders/", include("orders.urls")),
    path("orders/", include("payments.urls")),  # /orders/{id}/payments/
    path("orders/", include("sagas.order_urls")),  # /orders/{id}/cancel/approve/
    path("orders/", include("shipping.order_urls")),  # /orders/{id}/shipments|returns/
    path("cart/", include("cart.urls")),
    path("sagas/", include("sagas.urls")),
    path("shipping/", include("shipping.urls")),
    path("", include("notifications.api_urls")),  # me/notification-preferences, webhooks/
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("unsubscribe/", include("notifications.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("", include("django_prometheus.urls")),  # /metrics
]

handler404 = "commerce.api.exceptions.json_404"
handler500 = "commerce.api.exceptions.json_500"

admin.site.site_header = "Commerce back office"
admin.site.site_title = "Commerce back office"
