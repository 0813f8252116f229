from django.urls import path

from orders import apis, staff_apis

ORDER = "<uuid:order_id>/"

urlpatterns = [
    path("", apis.OrderCollectionApi.as_view(), name="orders"),
    path(ORDER, apis.OrderResourceApi.as_view(), name="order"),
    path(f"{ORDER}cancel/", apis.OrderCancelApi.as_view(), name="order-cancel"),
    path(f"{ORDER}events/", apis.OrderEventsApi.as_view(), name="order-events"),
    path(f"{ORDER}ship/", staff_apis.OrderShipApi.as_view(), name="order-ship"),
    path(f"{ORDER}deliver/", staff_apis.OrderDeliverApi.as_view(), name="order-deliver"),
    path(f"{ORDER}complete/", staff_apis.OrderCompleteApi.as_view(), name="order-complete"),
    path(f"{ORDER}refunds/", staff_apis.OrderRefundApi.as_view(), name="order-refunds"),
]
