"""Order-scoped shipping URLs, included under /api/v1/orders/: the tracking timeline and
staff shipment creation, returns and their labels."""

from django.urls import path

from shipping import apis, return_apis

urlpatterns = [
    path("<uuid:order_id>/shipments/", apis.OrderShipmentsApi.as_view(),
         name="order-shipments"),
    path("<uuid:order_id>/returns/", return_apis.OrderReturnsApi.as_view(),
         name="order-returns"),
    path("<uuid:order_id>/returns/<uuid:return_id>/label/",
         return_apis.OrderReturnLabelApi.as_view(), name="order-return-label"),
]
