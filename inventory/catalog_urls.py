from django.urls import path

from inventory import catalog_apis

urlpatterns = [
    path("products/", catalog_apis.CatalogListApi.as_view(), name="catalog-products"),
    path("products/<str:sku>/", catalog_apis.CatalogDetailApi.as_view(), name="catalog-product"),
]
