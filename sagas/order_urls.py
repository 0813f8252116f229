from django.urls import path

from sagas import apis

urlpatterns = [
    path("<uuid:order_id>/cancel/approve/", apis.CancellationApproveApi.as_view(),
         name="order-cancel-approve"),
    path("<uuid:order_id>/cancel/reject/", apis.CancellationRejectApi.as_view(),
         name="order-cancel-reject"),
]
