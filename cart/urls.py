from django.urls import path

from cart import apis

app_name = "cart"

urlpatterns = [
    path("", apis.CartApi.as_view(), name="cart"),
    path("items/", apis.CartItemAddApi.as_view(), name="item-add"),
    path("items/<str:sku>/", apis.CartItemApi.as_view(), name="item"),
    path("merge/", apis.CartMergeApi.as_view(), name="merge"),
    path("shipping-options/", apis.CartShippingOptionsApi.as_view(), name="shipping-options"),
    path("checkout/", apis.CheckoutApi.as_view(), name="checkout"),
]
