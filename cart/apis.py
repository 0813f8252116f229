"""Cart API. Guests use the cart without a JWT, naming it with the `X-Cart-Token` header
(returned once, when their cart is created); a signed-in customer always gets their own cart
(the header is ignored for them until they merge it)."""

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from cart import services
from cart.checkout import cart_checkout
from cart.refs import CartRef, cart_ref_for_token, cart_ref_for_user, cart_ref_new_guest
from cart.selectors import CartView, cart_get
from cart.shipping import cart_shipping_options
from commerce.api.idempotency import idempotent_response
from commerce.api.schema import errors, idempotent
from commerce.core.errors import NotFound
from inventory.validation import SKU_MAX_LENGTH
from orders.access import caller, order_access_token
from orders.serializers import AddressSerializer, OrderDetailSerializer

TOKEN_HEADER = "X-Cart-Token"
_TOKEN_PARAM = OpenApiParameter(TOKEN_HEADER, str, OpenApiParameter.HEADER, required=False,
                                description="Guest cart token (ignored when signed in).")


def _signed_in(request) -> bool:
    return bool(request.user and request.user.is_authenticated)


def _cart_ref(request, *, create_guest: bool = False) -> CartRef:
    if _signed_in(request):
        return cart_ref_for_user(request.user)
    token = request.headers.get(TOKEN_HEADER)
    if token is not None:
        return cart_ref_for_token(token)
    if create_guest:
        return cart_ref_new_guest()
    raise NotFound(f"No cart: sign in or send the {TOKEN_HEADER} header.")


class CartLineSerializer(serializers.Serializer):
    sku = serializers.CharField()
    name = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    line_total = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    currency = serializers.CharField(allow_null=True)
    active = serializers.BooleanField()
    available = serializers.IntegerField()
    price_when_added = serializers.DecimalField(max_digits=14, decimal_places=2,
                                                allow_null=True)


class CartOutputSerializer(serializers.Serializer):
    token = serializers.CharField(source="ref.token", allow_null=True)
    guest = serializers.BooleanField(source="ref.is_guest")
    lines = CartLineSerializer(many=True)
    warnings = serializers.ListField(child=serializers.DictField())
    line_count = serializers.SerializerMethodField()
    item_count = serializers.IntegerField()
    subtotal = serializers.DecimalField(max_digits=14, decimal_places=2)
    currency = serializers.CharField()
    expires_at = serializers.DateTimeField(allow_null=True)

    def get_line_count(self, obj: CartView) -> int:
        return len(obj.lines)


def _cart_response(ref: CartRef, *, status_code: int = status.HTTP_200_OK) -> Response:
    response = Response(CartOutputSerializer(cart_get(cart=ref)).data, status=status_code)
    if ref.token:
        response[TOKEN_HEADER] = ref.token
    return response


class CartApi(APIView):
    """GET the cart, POST to create a guest cart, DELETE to clear it."""

    permission_classes = [AllowAny]

    @extend_schema(parameters=[_TOKEN_PARAM],
                   responses={200: CartOutputSerializer, **errors(404, 503)}, tags=["cart"])
    def get(self, request):
        return _cart_response(_cart_ref(request))

    @extend_schema(request=None, responses={201: CartOutputSerializer, 200: CartOutputSerializer,
                                            **errors(503)}, tags=["cart"])
    def post(self, request):
        if _signed_in(request):
            return _cart_response(cart_ref_for_user(request.user))
        ref = services.cart_guest_create()
        return _cart_response(ref, status_code=status.HTTP_201_CREATED)

    @extend_schema(parameters=[_TOKEN_PARAM], responses={204: None, **errors(404, 503)},
                   tags=["cart"])
    def delete(self, request):
        services.cart_clear(cart=_cart_ref(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class CartItemAddApi(APIView):
    """Add units of a sku (to its existing line, if any). A guest without a token gets a new
    cart, whose token is in the body and the X-Cart-Token response header."""

    permission_classes = [AllowAny]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CartItemAddInput"

        sku = serializers.CharField(max_length=SKU_MAX_LENGTH)
        quantity = serializers.IntegerField(min_value=1, max_value=1_000_000, default=1)

    @extend_schema(**idempotent(parameters=[_TOKEN_PARAM], request=InputSerializer,
                                responses={201: CartOutputSerializer, **errors(404, 503)}),
                   tags=["cart"])
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        ref = _cart_ref(request, create_guest=True)

        def work():
            services.cart_item_add(cart=ref, **data.validated_data)
            return status.HTTP_201_CREATED, CartOutputSerializer(cart_get(cart=ref)).data

        response = idempotent_response(request, scope="cart.item_add", owner=ref.cart_id,
                                       payload=request.data, work=work)
        if ref.token:
            response[TOKEN_HEADER] = ref.token
        return response


class CartItemApi(APIView):
    """PATCH a line's quantity (0 removes it) or DELETE the line."""

    permission_classes = [AllowAny]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CartItemUpdateInput"

        quantity = serializers.IntegerField(min_value=0, max_value=1_000_000)

    @extend_schema(parameters=[_TOKEN_PARAM], request=InputSerializer,
                   responses={200: CartOutputSerializer, **errors(404, 503)}, tags=["cart"])
    def patch(self, request, sku: str):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        ref = _cart_ref(request)
        services.cart_item_set_quantity(cart=ref, sku=sku, **data.validated_data)
        return _cart_response(ref)

    @extend_schema(parameters=[_TOKEN_PARAM], responses={204: None, **errors(404, 503)},
                   tags=["cart"])
    def delete(self, request, sku: str):
        services.cart_item_remove(cart=_cart_ref(request), sku=sku)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CartMergeApi(APIView):
    """Merge a guest cart (token in the body or the X-Cart-Token header) into the signed-in
    customer's cart; the guest cart and its token stop existing. Retry-safe: repeating the
    merge answers the merged cart with the same report."""

    permission_classes = [IsAuthenticated]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CartMergeInput"

        token = serializers.CharField(max_length=128, required=False)

    class OutputSerializer(CartOutputSerializer):  # the cart plus the merge report
        class Meta:
            ref_name = "CartMergeOutput"

        merged = serializers.ListField(child=serializers.CharField())
        dropped = serializers.ListField(child=serializers.CharField())

    @extend_schema(parameters=[_TOKEN_PARAM], request=InputSerializer,
                   responses={200: OutputSerializer, **errors(404, 503)}, tags=["cart"])
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        token = data.validated_data.get("token") or request.headers.get(TOKEN_HEADER)
        if not token:
            raise serializers.ValidationError({"token": ["The guest cart token is required."]})
        result = services.cart_merge(user=request.user, guest_token=token)
        view = cart_get(cart=result.cart)
        body = dict(CartOutputSerializer(view).data)
        body["merged"], body["dropped"] = result.merged, result.dropped
        return Response(body)


class CartShippingOptionsApi(APIView):
    """Live carrier options for shipping this cart to a destination, cheapest first. Each
    has a `quote_id` valid until `expires_at` for this cart as it is now: send it to
    checkout as `shipping_quote_id` and its `price` is what shipping costs (0.00 from the
    free-shipping threshold up). Briefly cached; 503 when no carrier can quote."""

    permission_classes = [AllowAny]

    class FilterSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CartShippingOptionsFilter"

        country = serializers.RegexField(r"^[A-Za-z]{2}$", help_text="ISO 3166-1 alpha-2")
        postal_code = serializers.CharField(max_length=20, trim_whitespace=True)

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CartShippingOptions"

        class OptionSerializer(serializers.Serializer):
            class Meta:
                ref_name = "CartShippingOption"

            quote_id = serializers.UUIDField()
            carrier = serializers.CharField()
            service_level = serializers.CharField()
            service_code = serializers.CharField()
            service_name = serializers.CharField()
            price = serializers.DecimalField(max_digits=12, decimal_places=2)
            carrier_price = serializers.DecimalField(max_digits=12, decimal_places=2)
            currency = serializers.CharField()
            transit_days = serializers.IntegerField(allow_null=True)
            estimated_delivery = serializers.DateField(allow_null=True)
            expires_at = serializers.DateTimeField()

        country = serializers.CharField()
        postal_code = serializers.CharField()
        currency = serializers.CharField()
        subtotal = serializers.DecimalField(max_digits=14, decimal_places=2)
        free_shipping_threshold = serializers.DecimalField(max_digits=14, decimal_places=2,
                                                           allow_null=True)
        options = OptionSerializer(many=True)

    @extend_schema(parameters=[_TOKEN_PARAM, FilterSerializer],
                   responses={200: OutputSerializer, **errors(404, 503)}, tags=["cart"])
    def get(self, request):
        query = self.FilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        country = query.validated_data["country"].upper()
        postal_code = query.validated_data["postal_code"]
        quotes, view = cart_shipping_options(cart=_cart_ref(request), country=country,
                                             postal_code=postal_code)
        return Response(self.OutputSerializer({
            "country": country, "postal_code": postal_code, "currency": view.currency,
            "subtotal": view.subtotal,
            "free_shipping_threshold": settings.SHIPPING_FREE_THRESHOLD,
            "options": [vars(q) for q in quotes]}).data)


class CheckoutApi(APIView):
    """Turn the cart into an order (prices from the catalog): a signed-in customer's own
    cart, or a guest's (`X-Cart-Token`) with an `email`. A guest's answer carries the
    order's `order_access_token` (the `X-Order-Token` that reads the order without signing
    in). Send an `Idempotency-Key` to make retries replay the first answer; without one,
    resubmitting the same cart still never creates a second order (201 first, then 200 with
    the same order, also after the cart was cleared)."""

    permission_classes = [AllowAny]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CartCheckoutInput"

        shipping_address = AddressSerializer()
        payment_method = serializers.CharField(max_length=100, required=False, allow_null=True)
        email = serializers.EmailField(max_length=254, required=False,
                                       help_text="Guests only (required for them).")
        shipping_quote_id = serializers.UUIDField(
            required=False, allow_null=True,
            help_text="A quote_id from GET /cart/shipping-options/ (its price is charged).")

    class OutputSerializer(OrderDetailSerializer):
        class Meta:
            ref_name = "CartCheckoutOrder"

        order_access_token = serializers.CharField(
            allow_null=True, help_text="Guests only: reads this order as `X-Order-Token`. "
                                       "Keep it: it is not shown anywhere else.")

    @extend_schema(**idempotent(
        parameters=[_TOKEN_PARAM], request=InputSerializer,
        responses={201: OutputSerializer, 200: OutputSerializer, **errors(404, 409, 503)}),
        tags=["cart"])
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        payload = dict(data.validated_data)
        payload["shipping_address"] = dict(payload["shipping_address"])
        signed_in = _signed_in(request)
        ref = _cart_ref(request)
        email = payload.pop("email", None)
        if not signed_in and not email:
            raise serializers.ValidationError({"email": ["Required for a guest checkout."]})

        def work():
            if signed_in:
                result = cart_checkout(user=request.user, cart=ref, **payload)
            else:
                result = cart_checkout(cart=ref, guest_email=email, **payload)
            order = result.order
            body = self.OutputSerializer(order, context={
                "caller": caller(request)}).data
            body["order_access_token"] = None if signed_in else order_access_token(
                order.order_id)
            code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
            return code, body

        owner = f"user:{request.user.pk}" if signed_in else f"cart:{ref.cart_id}"
        return idempotent_response(request, scope="cart.checkout", owner=owner,
                                   payload={**payload, "email": email}, work=work)
