"""Order REST API: one view class per operation (each with its own nested serializers);
operations sharing a URL are combined by `OrderCollectionApi` / `OrderResourceApi`, whose
methods come from the operation classes. Views stay thin: parse, call a service or
selector, render. Customers see only their own orders (others' are 404); staff holding
`orders.view_orderview` see all, and act on others' orders only with the operation's own
permission (commerce.accounts.roles)."""

import datetime as dt
import re
import uuid

from django.conf import settings
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from commerce.accounts import roles
from commerce.api.idempotency import idempotent_response
from commerce.api.pagination import DefaultPagination
from commerce.core.errors import DomainError, ErrorCode, PreconditionFailed
from orders import lifecycle, selectors, services
from orders.lifecycle import OrderStatus

TAGS = ["orders"]


class PreconditionRequired(DomainError):
    code = ErrorCode.PRECONDITION_REQUIRED
    http_status = 428
    default_message = "Send If-Match with the order version (its ETag) to change it."


def is_staff(request) -> bool:
    """Staff who may see every order (and its staff-only details)."""
    if not hasattr(request, "_orders_is_staff"):
        request._orders_is_staff = roles.can(request.user, "orders.view_orderview")
    return request._orders_is_staff


def require_for_others(request, order, perm: str) -> None:
    """A customer acts on their own order; anyone else needs `perm`."""
    if order.customer_id != request.user.pk and not roles.can(request.user, perm):
        raise PermissionDenied()


def owner_filter(request):
    """None for staff (all orders), else the caller's id."""
    return None if is_staff(request) else request.user.pk


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


# --- output --------------------------------------------------------------------------------
class LineOutputSerializer(serializers.Serializer):
    class Meta:
        ref_name = "OrderLineOutput"

    line_no = serializers.IntegerField()
    sku = serializers.CharField()
    name = serializers.CharField()
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2)
    quantity = serializers.IntegerField()
    line_total = serializers.DecimalField(max_digits=14, decimal_places=2)


class OrderSummarySerializer(serializers.Serializer):
    class Meta:
        ref_name = "OrderSummary"

    order_id = serializers.UUIDField()
    customer_id = serializers.UUIDField()
    status = serializers.CharField()
    cancellation_pending = serializers.BooleanField()
    archived = serializers.BooleanField()
    currency = serializers.CharField()
    subtotal = serializers.DecimalField(max_digits=14, decimal_places=2)
    shipping_total = serializers.DecimalField(max_digits=14, decimal_places=2)
    discount_total = serializers.DecimalField(max_digits=14, decimal_places=2)
    tax_total = serializers.DecimalField(max_digits=14, decimal_places=2)
    total_amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    item_count = serializers.IntegerField()
    version = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    allowed_actions = serializers.SerializerMethodField()

    def get_allowed_actions(self, order) -> list[str]:
        staff = self.context.get("staff", False)
        by = {lifecycle.CUSTOMER, lifecycle.STAFF} if staff else {lifecycle.CUSTOMER}
        return lifecycle.allowed_actions(order.lifecycle(), by=frozenset(by))


class OrderDetailSerializer(OrderSummarySerializer):
    class Meta:
        ref_name = "OrderDetail"

    captured_amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    refunded_amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    shipping_address = serializers.JSONField()
    notes = serializers.CharField()
    payment_method = serializers.CharField(allow_null=True)
    channel = serializers.CharField()
    carrier = serializers.CharField()
    tracking_number = serializers.CharField()
    failure_code = serializers.CharField()
    failure_reason = serializers.CharField()
    cancellation_reason = serializers.CharField()
    lines = LineOutputSerializer(many=True)


def render(request, order, *, status_code=200, headers=True) -> Response:
    body = OrderDetailSerializer(order, context={"staff": is_staff(request)}).data
    response = Response(body, status=status_code)
    if headers:
        response["ETag"] = etag(order)
    return response


# --- operations ----------------------------------------------------------------------------
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
        return parsed


class OrderListApi(APIView):
    class FilterSerializer(serializers.Serializer):
        class Meta:
            ref_name = "OrderListFilter"

        status = serializers.ChoiceField(choices=OrderStatus.choices, required=False)
        created_from = _FlexibleDateTime(required=False)
        created_to = _FlexibleDateTime(required=False, end=True)
        customer_id = serializers.UUIDField(required=False)  # staff only
        include_archived = serializers.BooleanField(required=False, default=False)

    @extend_schema(tags=TAGS, responses={200: OrderSummarySerializer(many=True)}, parameters=[
        OpenApiParameter("status", str), OpenApiParameter("created_from", str),
        OpenApiParameter("created_to", str), OpenApiParameter("customer_id", str),
        OpenApiParameter("include_archived", bool)])
    def get(self, request):
        """Orders newest first, paginated. `created_to` is exclusive (a date: that whole day
        included). Archived orders are hidden unless include_archived=true."""
        filters = OrderListApi.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        f = dict(filters.validated_data)
        customer_id = owner_filter(request)
        requested_customer = f.pop("customer_id", None)
        if customer_id is None:
            customer_id = requested_customer
        qs = selectors.order_list(customer_id=customer_id, **f)
        paginator = DefaultPagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        data = OrderSummarySerializer(page, many=True, context={"staff": is_staff(request)}).data
        return paginator.get_paginated_response(data)


class OrderCreateApi(APIView):
    class LineSerializer(serializers.Serializer):
        class Meta:
            ref_name = "OrderCreateLine"

        sku = serializers.CharField(max_length=64)
        quantity = serializers.IntegerField(min_value=1,
                                            max_value=settings.ORDER_MAX_QUANTITY_PER_LINE)

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "OrderCreateInput"

        lines = serializers.ListField(allow_empty=False, max_length=settings.ORDER_MAX_LINES)
        shipping_address = serializers.DictField()
        payment_method = serializers.CharField(max_length=100, required=False, allow_null=True)
        notes = serializers.CharField(max_length=2000, required=False, allow_blank=True)

        def validate_lines(self, value):
            # ListField(child=…) would stop at the first bad item; this reports each line.
            serializer = OrderCreateApi.LineSerializer(data=value, many=True)
            serializer.is_valid(raise_exception=True)
            return serializer.validated_data

    @extend_schema(tags=TAGS, request=InputSerializer, responses={201: OrderDetailSerializer},
                   parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER)])
    def post(self, request):
        """Place an order at catalog prices. With Idempotency-Key, a retry with the same body
        returns the original response; another body with the same key → 422."""
        data = OrderCreateApi.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        args = data.validated_data

        def work():
            order = services.order_place(
                customer_id=request.user.pk, order_id=uuid.uuid4(),
                lines=[dict(line) for line in args["lines"]],
                shipping_address=args["shipping_address"],
                payment_method=args.get("payment_method"), notes=args.get("notes", ""))
            return 201, OrderDetailSerializer(order, context={"staff": is_staff(request)}).data

        response = idempotent_response(request, scope="orders.create", owner=str(request.user.pk),
                                       payload=request.data, work=work)
        if response.status_code == 201:
            response["Location"] = f"/api/v1/orders/{response.data['order_id']}/"
            response["ETag"] = f'"{response.data["version"]}"'
        return response


class OrderDetailApi(APIView):
    @extend_schema(tags=TAGS, responses={200: OrderDetailSerializer})
    def get(self, request, order_id):
        """The order with its lines, status, version (also the ETag) and the actions the
        caller may take now."""
        order = selectors.order_get(order_id=order_id, customer_id=owner_filter(request))
        return render(request, order)


class OrderUpdateApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "OrderUpdateInput"

        shipping_address = serializers.DictField(required=False)
        notes = serializers.CharField(max_length=2000, required=False, allow_blank=True)

        def validate(self, attrs):
            if not attrs:
                raise serializers.ValidationError("Send shipping_address and/or notes.")
            return attrs

    @extend_schema(tags=TAGS, request=InputSerializer, responses={200: OrderDetailSerializer},
                   parameters=[OpenApiParameter("If-Match", str, OpenApiParameter.HEADER,
                                                required=True)])
    def patch(self, request, order_id):
        """Change the shipping address and/or notes before shipping. Requires If-Match with
        the version: stale → 412; a concurrent change that wins the race → 409."""
        order = selectors.order_get(order_id=order_id, customer_id=owner_filter(request))
        require_for_others(request, order, "orders.update_order")
        data = OrderUpdateApi.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        version = expected_version(request)
        order = services.order_update(order_id=order_id, expected_version=version,
                                      **data.validated_data)
        return render(request, order)


class OrderArchiveApi(APIView):
    @extend_schema(tags=TAGS, responses={204: None})
    def delete(self, request, order_id):
        """Staff only, terminal orders only: archive (an OrderArchived event). The order
        disappears from default listings; its events stay as the audit trail."""
        selectors.order_get(order_id=order_id, customer_id=owner_filter(request))
        if not roles.can(request.user, "orders.archive_order"):
            raise PermissionDenied("Only staff can archive orders.")
        services.order_archive(order_id=order_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class OrderCancelApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "OrderCancelInput"

        reason = serializers.CharField(max_length=500)

    @extend_schema(tags=TAGS, request=InputSerializer, responses={202: OrderDetailSerializer})
    def post(self, request, order_id):
        """Request cancellation (202): the cancellation saga voids/refunds, releases stock
        and cancels the order, or rejects the request."""
        order = selectors.order_get(order_id=order_id, customer_id=owner_filter(request))
        require_for_others(request, order, "orders.cancel_order")
        data = OrderCancelApi.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = services.order_request_cancellation(order_id=order_id,
                                                    **data.validated_data)
        return render(request, order, status_code=status.HTTP_202_ACCEPTED)


class OrderEventsApi(APIView):
    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "OrderEventOutput"

        event_id = serializers.UUIDField(source="id")
        event_type = serializers.CharField()
        event_version = serializers.IntegerField()
        version = serializers.IntegerField()
        data = serializers.JSONField()
        created_at = serializers.DateTimeField()
        metadata = serializers.SerializerMethodField()

        def get_metadata(self, event) -> dict:
            # Who did what is back-office information.
            return event.metadata if self.context.get("staff") else {}

    @extend_schema(tags=TAGS, responses={200: OutputSerializer(many=True)})
    def get(self, request, order_id):
        """The order's event history, oldest first (metadata for staff only)."""
        selectors.order_get(order_id=order_id, customer_id=owner_filter(request))
        events = selectors.order_events(order_id=order_id)
        data = OrderEventsApi.OutputSerializer(events, many=True,
                                               context={"staff": is_staff(request)}).data
        return Response({"count": len(data), "results": data})


# --- URL-sharing combinations (method → operation) -------------------------------------
class OrderCollectionApi(OrderListApi, OrderCreateApi):
    """GET: OrderListApi; POST: OrderCreateApi."""


class OrderResourceApi(OrderDetailApi, OrderUpdateApi, OrderArchiveApi):
    """GET: OrderDetailApi; PATCH: OrderUpdateApi; DELETE: OrderArchiveApi."""

