"""Order REST API: one view class per operation (each with its own nested serializers);
operations sharing a URL are combined by `OrderCollectionApi` / `OrderResourceApi`, whose
methods come from the operation classes. Views stay thin: parse, call a service or
selector, render. Customers see only their own orders (others' are 404); staff holding
`orders.view_orderview` see all, and act on others' orders only with the operation's own
permission (commerce.accounts.roles); a guest reads the order their checkout placed with
its access token (orders/access.py). Staff actions (ship, deliver, complete, refunds) are
in orders/staff_apis.py."""

import datetime as dt
import re

from django.conf import settings
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from commerce.accounts import roles
from commerce.api.idempotency import idempotent_response
from commerce.api.pagination import DefaultPagination, paginated_response
from commerce.api.rendering import represent
from commerce.api.schema import errors, idempotent
from commerce.core.errors import DomainError, ErrorCode, PreconditionFailed, ValidationFailed
from inventory.validation import SKU_MAX_LENGTH
from orders import selectors, services
from orders.access import (
    TOKEN_HEADER,
    api_action_names,
    caller,
    is_staff,
    order_for_request,
    owner_filter,
    require_for_others,
)
from orders.lifecycle import OrderStatus
from orders.serializers import (
    AddressSerializer,
    OrderDetailSerializer,
    OrderSummarySerializer,
)

TAGS = ["orders"]

ORDER_TOKEN_PARAM = OpenApiParameter(
    TOKEN_HEADER, str, OpenApiParameter.HEADER, required=False,
    description="A guest's order access token (answered once by guest checkout); "
                "reads this order without signing in.")


class PreconditionRequired(DomainError):
    code = ErrorCode.PRECONDITION_REQUIRED
    http_status = 428
    default_message = "Send If-Match with the order version (its ETag) to change it."


def etag(order) -> str:
    return f'"{order.version}"'


_IF_MATCH = re.compile(r'^\s*(?:W/)?"?(\d{1,9})"?\s*$')


def expected_version(request) -> int:
    header = request.headers.get("If-Match")
    if header is None:
        raise PreconditionRequired()
    match = _IF_MATCH.match(header)
    if match is None:
        raise PreconditionFailed("If-Match must be the order's ETag, e.g. \"3\".",
                                 details={"If-Match": header[:100]})
    return int(match.group(1))


def order_body(request, order) -> dict:
    return represent(OrderDetailSerializer, order, context={"caller": caller(request)})


def render(request, order, *, status_code=200) -> Response:
    response = Response(order_body(request, order), status=status_code)
    response["ETag"] = etag(order)
    return response


class _FlexibleDateTime(serializers.Field):
    """An ISO datetime, or a date (its start; `end=True` → the start of the next day)."""

    def __init__(self, *, end=False, **kw):
        self.end = end
        super().__init__(**kw)

    def to_internal_value(self, value):
        from django.utils.dateparse import parse_date, parse_datetime

        if not isinstance(value, str):
            raise serializers.ValidationError("An ISO 8601 date or datetime.")
        try:
            day = parse_date(value) if len(value) == 10 else None
            if day is not None:
                parsed = dt.datetime.combine(day + dt.timedelta(days=int(self.end)), dt.time())
            else:
                parsed = parse_datetime(value)
                if parsed is None:
                    raise ValueError
        except ValueError:
            raise serializers.ValidationError("An ISO 8601 date or datetime.") from None
        if timezone.is_naive(parsed):
            parsed = timezone.make_aware(parsed, dt.UTC)
        try:  # in UTC: PostgreSQL refuses offsets past ±15:59 that Python accepts
            return parsed.astimezone(dt.UTC)
        except OverflowError:
            raise serializers.ValidationError("An ISO 8601 date or datetime.") from None


# --- operations ----------------------------------------------------------------------------
class OrderListApi(APIView):
    pagination_class = DefaultPagination

    class FilterSerializer(serializers.Serializer):
        class Meta:
            ref_name = "OrderListFilter"

        status = serializers.ChoiceField(choices=OrderStatus.choices, required=False)
        created_from = _FlexibleDateTime(required=False)
        created_to = _FlexibleDateTime(required=False, end=True)
        customer_id = serializers.UUIDField(required=False)  # staff only
        include_archived = serializers.BooleanField(required=False, default=False)

    @extend_schema(tags=TAGS, responses={200: OrderSummarySerializer(many=True)}, parameters=[
        OpenApiParameter("status", str, enum=OrderStatus.values),
        OpenApiParameter("created_from", OpenApiTypes.DATETIME,
                         description="ISO date or datetime (inclusive)."),
        OpenApiParameter("created_to", OpenApiTypes.DATETIME,
                         description="ISO date (that whole day included) or datetime "
                                     "(exclusive)."),
        OpenApiParameter("customer_id", OpenApiTypes.UUID, description="Staff only."),
        OpenApiParameter("include_archived", bool)])
    def get(self, request):
        """Orders newest first, paginated. Archived orders are hidden unless
        include_archived=true."""
        filters = OrderListApi.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        f = dict(filters.validated_data)
        customer_id = owner_filter(request)
        requested_customer = f.pop("customer_id", None)
        if customer_id is None:
            customer_id = requested_customer
        qs = selectors.order_list(customer_id=customer_id, **f)
        return paginated_response(self, request, qs, OrderSummarySerializer,
                                  context={"caller": caller(request)})


class OrderCreateLineSerializer(serializers.Serializer):
    class Meta:
        ref_name = "OrderCreateLine"

    sku = serializers.CharField(max_length=SKU_MAX_LENGTH)
    quantity = serializers.IntegerField(min_value=1,
                                        max_value=settings.ORDER_MAX_QUANTITY_PER_LINE)


class OrderCreateApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "OrderCreateInput"

        # A list serializer reports every bad line (one error dict per line).
        lines = OrderCreateLineSerializer(many=True, allow_empty=False,
                                          max_length=settings.ORDER_MAX_LINES)
        shipping_address = AddressSerializer()
        payment_method = serializers.CharField(max_length=100, required=False, allow_null=True)
        notes = serializers.CharField(max_length=2000, required=False, allow_blank=True)

    @extend_schema(tags=TAGS, **idempotent(
        request=InputSerializer, responses={201: OrderDetailSerializer, **errors(409)}))
    def post(self, request):
        """Place an order at catalog prices. Every line's stock is checked first: 409
        `insufficient_stock` names each short sku with what is available."""
        body = request.data
        if not isinstance(body, dict):
            raise ValidationFailed(details={"non_field_errors": ["Expected a JSON object."]})

        def work():
            # The service checks every field and names each bad one (orders/validation.py);
            # InputSerializer documents the shape. Not run here as well: on the hottest
            # request, building and running it cost a tenth of the request's CPU.
            order = services.order_place(
                customer_id=request.user.pk, lines=body.get("lines"),
                shipping_address=body.get("shipping_address"),
                payment_method=body.get("payment_method"), notes=body.get("notes"))
            return 201, order_body(request, order)

        # database_only: a placement's every effect commits with it (the rest after commit).
        response = idempotent_response(request, scope="orders.create", owner=str(request.user.pk),
                                       payload=request.data, work=work, database_only=True)
        if response.status_code == 201:
            response["Location"] = f"/api/v1/orders/{response.data['order_id']}/"
            response["ETag"] = f'"{response.data["version"]}"'
        return response


class OrderDetailApi(APIView):
    permission_classes = [AllowAny]  # a guest with the order's access token may read

    @extend_schema(tags=TAGS, parameters=[ORDER_TOKEN_PARAM],
                   responses={200: OrderDetailSerializer})
    def get(self, request, order_id):
        """The order with its lines, status, version (also the ETag) and the API actions
        the caller can call now."""
        return render(request, order_for_request(request, order_id, token_allowed=True))


class OrderUpdateApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "OrderUpdateInput"

        shipping_address = AddressSerializer(required=False)
        notes = serializers.CharField(max_length=2000, required=False, allow_blank=True)

        def validate(self, attrs):
            if not attrs:
                raise serializers.ValidationError("Send shipping_address and/or notes.")
            return attrs

    @extend_schema(tags=TAGS, request=InputSerializer,
                   responses={200: OrderDetailSerializer, **errors(409, 412, 428)},
                   parameters=[OpenApiParameter("If-Match", str, OpenApiParameter.HEADER,
                                                required=True)])
    def patch(self, request, order_id):
        """Change the shipping address and/or notes before shipping. Requires If-Match with
        the version: stale → 412; a concurrent change that wins the race → 409."""
        order = order_for_request(request, order_id)
        require_for_others(request, order, "orders.update_order")
        data = OrderUpdateApi.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        version = expected_version(request)
        args = dict(data.validated_data)
        if "shipping_address" in args:
            args["shipping_address"] = dict(args["shipping_address"])
        with api_action_names(request, order_id):
            order = services.order_update(order_id=order_id, expected_version=version, **args)
        return render(request, order)


class OrderArchiveApi(APIView):
    @extend_schema(tags=TAGS, responses={204: None, **errors(403, 409)})
    def delete(self, request, order_id):
        """Support staff, terminal orders only: archive (an OrderArchived event). The order
        disappears from default listings; its events stay as the audit trail."""
        order_for_request(request, order_id)
        if not roles.can(request.user, "orders.archive_order"):
            raise PermissionDenied("Only staff can archive orders.")
        with api_action_names(request, order_id):
            services.order_archive(order_id=order_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class OrderCancelApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "OrderCancelInput"

        reason = serializers.CharField(max_length=500)

    @extend_schema(tags=TAGS, request=InputSerializer,
                   responses={202: OrderDetailSerializer, **errors(409)})
    def post(self, request, order_id):
        """Request cancellation (202): the cancellation saga voids/refunds, releases stock
        and cancels the order, or rejects the request."""
        order = order_for_request(request, order_id)
        require_for_others(request, order, "orders.cancel_order")
        data = OrderCancelApi.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with api_action_names(request, order_id):
            order = services.order_request_cancellation(order_id=order_id,
                                                        **data.validated_data)
        return render(request, order, status_code=status.HTTP_202_ACCEPTED)


class OrderEventsApi(APIView):
    permission_classes = [AllowAny]  # a guest with the order's access token may read
    pagination_class = DefaultPagination

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "OrderEvent"

        event_id = serializers.UUIDField(source="id")
        event_type = serializers.CharField()
        event_version = serializers.IntegerField()
        version = serializers.IntegerField()
        data = serializers.DictField()
        created_at = serializers.DateTimeField()
        metadata = serializers.SerializerMethodField()

        def get_metadata(self, event) -> dict:
            # Who did what is back-office information.
            return event.metadata if self.context.get("staff") else {}

    @extend_schema(tags=TAGS, parameters=[ORDER_TOKEN_PARAM],
                   responses={200: OutputSerializer(many=True)})
    def get(self, request, order_id):
        """The order's event history, oldest first, paginated (metadata for staff only)."""
        order_for_request(request, order_id, token_allowed=True)
        events = selectors.order_events(order_id=order_id)
        return paginated_response(self, request, events, OrderEventsApi.OutputSerializer,
                                  context={"staff": is_staff(request)})


# --- URL-sharing combinations (method → operation) -------------------------------------
class OrderCollectionApi(OrderListApi, OrderCreateApi):
    """GET: OrderListApi; POST: OrderCreateApi."""


class OrderResourceApi(OrderDetailApi, OrderUpdateApi, OrderArchiveApi):
    """GET: OrderDetailApi; PATCH: OrderUpdateApi; DELETE: OrderArchiveApi."""

    permission_classes = [AllowAny]  # GET admits a token; PATCH/DELETE check sign-in
