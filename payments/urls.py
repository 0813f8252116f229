from django.urls import path

from payments import apis

urlpatterns = [
    path("<uuid:order_id>/payments/", apis.OrderPaymentListApi.as_view(),
         name="order-payments"),
]
