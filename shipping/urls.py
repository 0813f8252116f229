"""/api/v1/shipping/ (staff operations, carrier webhooks)."""

from django.urls import path

from shipping import apis, return_apis

urlpatterns = [
    path("shipments/", apis.ShipmentListApi.as_view(), name="shipments"),
    path("shipments/<uuid:shipment_id>/", apis.ShipmentDetailApi.as_view(), name="shipment"),
    path("shipments/<uuid:shipment_id>/label/", apis.ShipmentLabelApi.as_view(),
         name="shipment-label"),
    path("shipments/<uuid:shipment_id>/purchase-label/",
         apis.ShipmentPurchaseLabelApi.as_view(), name="shipment-purchase-label"),
    path("shipments/<uuid:shipment_id>/void/", apis.ShipmentVoidApi.as_view(),
         name="shipment-void"),
    path("returns/", return_apis.ReturnQueueApi.as_view(), name="returns"),
    path("returns/<uuid:return_id>/", return_apis.ReturnDetailApi.as_view(), name="return"),
    path("returns/<uuid:return_id>/approve/", return_apis.ReturnApproveApi.as_view(),
         name="return-approve"),
    path("returns/<uuid:return_id>/reject/", return_apis.ReturnRejectApi.as_view(),
         name="return-reject"),
    path("returns/<uuid:return_id>/receive/", return_apis.ReturnReceiveApi.as_view(),
         name="return-receive"),
    path("webhooks/<str:carrier>/", apis.CarrierWebhookApi.as_view(), name="carrier-webhook"),
]
