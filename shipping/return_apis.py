"""Returns (RMA) API: customers request returns of their delivered orders and download the
return label once approved; staff work the returns queue (approve, reject, receive)."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from commerce.api.idempotency import idempotent_response
from commerce.api.pagination import DefaultPagination, paginated_response
from commerce.api.permissions import HasPermission
from commerce.api.schema import errors, idempotent
from orders.access import order_for_request, require_for_others
from orders.apis import ORDER_TOKEN_PARAM
from shipping import returns, selectors
from shipping.apis import PDF, paginated, pdf_response
from shipping.models import ReturnStatus

TAGS = ["returns"]


class ReturnLineOutput(serializers.Serializer):
    line_no = serializers.IntegerField()
    sku = serializers.CharField()
    quantity = serializers.IntegerField()
    received_quantity = serializers.IntegerField(allow_null=True)
    disposition = serializers.CharField()


class ReturnOutput(serializers.Serializer):
    return_id = serializers.UUIDField()
    order_id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=ReturnStatus.choices)
    reason = serializers.CharField()
    decision_reason = serializers.CharField()
    carrier = serializers.CharField()
    tracking_number = serializers.CharField()
    label_url = serializers.CharField()
    lines = ReturnLineOutput(many=True, source="lines.all")
    goods_refund = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    shipping_refund = serializers.DecimalField(max_digits=14, decimal_places=2,
                                               allow_null=True)
    refund_amount = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    requested_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)
    received_at = serializers.DateTimeField(allow_null=True)


class LineInput(serializers.Serializer):
    class Meta:
        ref_name = "ReturnLineInput"

    sku = serializers.CharField(max_length=255)
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000)


# --- the customer's side -----------------------------------------------------------------
class OrderReturnListApi(APIView):
    permission_classes = [AllowAny]  # a guest with the order's access token may read
    pagination_class = DefaultPagination

    @extend_schema(tags=TAGS, parameters=[ORDER_TOKEN_PARAM],
                   responses={200: ReturnOutput(many=True)})
    def get(self, request, order_id):
        """The order's returns, oldest first (its customer, a guest with its X-Order-Token,
        or staff), paginated."""
        order = order_for_request(request, order_id, token_allowed=True)
        return paginated_response(self, request, selectors.return_list(order_id=order.order_id),
                                  ReturnOutput)


class OrderReturnRequestApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ReturnRequestInput"

        lines = LineInput(many=True, allow_empty=False)
        reason = serializers.CharField(max_length=500)

    @extend_schema(tags=TAGS, **idempotent(
        request=InputSerializer, responses={201: ReturnOutput, **errors(409, 503)}))
    def post(self, request, order_id):
        """Ask to return some delivered units, with a reason, within the return window
        (409 return_window_closed after it): the order's customer (signed in; a guest's
        order joins their account when they register), or staff with
        `shipping.decide_return` on the customer's behalf. Staff approve or reject it."""
        order = order_for_request(request, order_id)
        require_for_others(request, order, "shipping.decide_return")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        args = data.validated_data

        def work():
            found = returns.return_request(
                order_id=order.order_id, lines=[dict(line) for line in args["lines"]],
                reason=args["reason"])
            return status.HTTP_201_CREATED, ReturnOutput(found).data

        return idempotent_response(request, scope="returns.request",
                                   owner=f"user:{request.user.pk}:{order.order_id}",
                                   payload=request.data, work=work)


class OrderReturnsApi(OrderReturnListApi, OrderReturnRequestApi):
    """GET: OrderReturnListApi; POST: OrderReturnRequestApi."""


class OrderReturnLabelApi(APIView):
    permission_classes = [AllowAny]  # the link's token, or the order's reader

    @extend_schema(tags=TAGS, responses=PDF, parameters=[
        ORDER_TOKEN_PARAM, OpenApiParameter("token", str, OpenApiParameter.QUERY,
                                            description="From the label URL sent with the "
                                                        "approval: opens it without signing "
                                                        "in.")])
    def get(self, request, order_id, return_id):
        """The return label to print (once the return is approved): the `label_url` sent to
        the customer opens it as it is; the order's customer or staff may also fetch it."""
        if not returns.return_label_token_valid(return_id, request.query_params.get("token")):
            order_for_request(request, order_id, token_allowed=True)
        selectors.return_get(return_id=return_id, order_id=order_id)
        return pdf_response(selectors.label_get(label_id=return_id))


# --- staff: the returns queue --------------------------------------------------------------
class ReturnQueueApi(APIView):
    permission_classes = [HasPermission("shipping.view_returnrequest")]
    pagination_class = DefaultPagination

    class FilterSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ReturnQueueFilter"

        status = serializers.ChoiceField(choices=ReturnStatus.choices, required=False)
        order_id = serializers.UUIDField(required=False)

    @extend_schema(tags=TAGS, parameters=[FilterSerializer],
                   responses={200: ReturnOutput(many=True)})
    def get(self, request):
        """Returns oldest first (what to handle next), e.g. ?status=requested."""
        return paginated(self, request, self.FilterSerializer, selectors.return_list,
                         ReturnOutput)


class ReturnDetailApi(APIView):
    permission_classes = [HasPermission("shipping.view_returnrequest")]

    @extend_schema(tags=TAGS, responses={200: ReturnOutput})
    def get(self, request, return_id):
        return Response(ReturnOutput(selectors.return_get(return_id=return_id)).data)


class ReturnApproveApi(APIView):
    permission_classes = [HasPermission("shipping.decide_return")]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ReturnApproveInput"

        carrier = serializers.CharField(max_length=20, required=False, allow_null=True)
        service_level = serializers.CharField(max_length=20, required=False, allow_null=True)

    @extend_schema(tags=TAGS, request=InputSerializer,
                   responses={200: ReturnOutput, **errors(409, 422, 503)})
    def post(self, request, return_id):
        """Approve a requested return: buys the return label (carrier: as asked, else the
        one that delivered) and sends the customer its URL (ReturnApproved)."""
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(ReturnOutput(returns.return_approve(
            return_id=return_id, **data.validated_data)).data)


class ReturnRejectApi(APIView):
    permission_classes = [HasPermission("shipping.decide_return")]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ReturnRejectInput"

        reason = serializers.CharField(max_length=500)

    @extend_schema(tags=TAGS, request=InputSerializer,
                   responses={200: ReturnOutput, **errors(409, 503)})
    def post(self, request, return_id):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(ReturnOutput(returns.return_reject(
            return_id=return_id, reason=data.validated_data["reason"])).data)


class ReturnReceiveApi(APIView):
    permission_classes = [HasPermission("shipping.receive_return")]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ReturnReceiveInput"

        class LineSerializer(LineInput):
            class Meta:
                ref_name = "ReturnReceiveLine"

            disposition = serializers.ChoiceField(choices=["restock", "write_off"],
                                                  default="restock")

        lines = LineSerializer(many=True, required=False, allow_empty=False,
                               help_text="Omit: every unit of the return, restocked.")

    @extend_schema(tags=TAGS, request=InputSerializer,
                   responses={200: ReturnOutput, **errors(409, 503)})
    def post(self, request, return_id):
        """The parcel arrived: restock or write off each line, refund the lines' share
        (with shipping when the policy says so). Receiving again is a no-op."""
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        lines = data.validated_data.get("lines")
        return Response(ReturnOutput(returns.return_receive(
            return_id=return_id, lines=[dict(ln) for ln in lines] if lines else None)).data)

