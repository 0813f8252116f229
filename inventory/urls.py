from django.urls import path

from inventory import apis
from inventory import reservation_apis as rapis

R = "reservations/<uuid:reservation_id>/"

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
    path("reservations/", rapis.ReservationCollectionApi.as_view(),
         name="inventory-reservations"),
    path(R, rapis.ReservationDetailApi.as_view(), name="inventory-reservation"),
    path(f"{R}confirm/", rapis.ReservationConfirmApi.as_view(),
         name="inventory-reservation-confirm"),
    path(f"{R}fulfill/", rapis.ReservationFulfillApi.as_view(),
         name="inventory-reservation-fulfill"),
    path(f"{R}release/", rapis.ReservationReleaseApi.as_view(),
         name="inventory-reservation-release"),
    path(f"{R}restock/", rapis.ReservationRestockApi.as_view(),
         name="inventory-reservation-restock"),
]
