from django.urls import path

from orders import apis

urlpatterns = [
    path("", apis.OrderCollectionApi.as_view(), name="orders"),
    path("<uuid:order_id>/", apis.OrderResourceApi.as_view(), name="order"),
    path("<uuid:order_id>/cancel/", apis.OrderCancelApi.as_view(), name="order-cancel"),
    path("<uuid:order_id>/events/", apis.OrderEventsApi.as_view(), name="order-events"),
]
