from django.urls import path

from inventory import apis

urlpatterns = [
    path("items/", apis.ItemCollectionApi.as_view(), name="inventory-items"),
    path("items/<str:sku>/", apis.ItemDetailApi.as_view(), name="inventory-item"),
    path("items/<str:sku>/receive/", apis.ItemReceiveApi.as_view(), name="inventory-receive"),
    path("items/<str:sku>/adjust/", apis.ItemAdjustApi.as_view(), name="inventory-adjust"),
    path("items/<str:sku>/movements/", apis.ItemMovementsApi.as_view(),
         name="inventory-movements"),
    path("low-stock/", apis.LowStockApi.as_view(), name="inventory-low-stock"),
    path("reorder/", apis.ReorderApi.as_view(), name="inventory-reorder"),
    path("summary/", apis.SummaryApi.as_view(), name="inventory-summary"),
    path("reservations/", apis.ReservationCollectionApi.as_view(),
         name="inventory-reservations"),
    path("reservations/<uuid:reservation_id>/", apis.ReservationDetailApi.as_view(),
         name="inventory-reservation"),
    path("reservations/<uuid:reservation_id>/confirm/", apis.ReservationConfirmApi.as_view(),
         name="inventory-reservation-confirm"),
    path("reservations/<uuid:reservation_id>/fulfill/", apis.ReservationFulfillApi.as_view(),
         name="inventory-reservation-fulfill"),
    path("reservations/<uuid:reservation_id>/release/", apis.ReservationReleaseApi.as_view(),
         name="inventory-reservation-release"),
    path("reservations/<uuid:reservation_id>/restock/", apis.ReservationRestockApi.as_view(),
         name="inventory-reservation-restock"),
]
