"""Staff actions on an order, each behind its permission (support holds them): ship,
deliver, complete, refund. Each calls the same service as the back office; repeating an
action whose effect is recorded answers the order unchanged (the services are idempotent),
so a support tool may retry freely."""

import uuid
from decimal import Decimal

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.views import APIView

from commerce.api.idempotency import idempotent_response
from commerce.api.permissions import HasPermission
from commerce.api.schema import errors
from commerce.core.errors import ValidationFailed
from orders import services
from orders.access import api_action_names, caller, order_for_request
from orders.apis import TAGS, render
from orders.serializers import OrderDetailSerializer


class OrderShipApi(APIView):
    """Kept thin on purpose: the shipping work (labels, split shipments) extends this."""

    permission_classes = [HasPermission("orders.ship_order")]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "OrderShipInput"

        carrier = serializers.CharField(max_length=100)
        tracking_number = serializers.CharField(max_length=100)

    @extend_schema(tags=TAGS, request=InputSerializer,
                   responses={200: OrderDetailSerializer, **errors(409)})
    def post(self, request, order_id):
        """Ship a confirmed order (ShipmentCreated + OrderShipped; the stock reservation is
        fulfilled in the same transaction)."""
        order_for_request(request, order_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with api_action_names(request, order_id):
            order = services.order_ship(order_id=order_id, **data.validated_data)
        return render(request, order)


class _NoInputActionApi(APIView):
    permission_classes = [HasPermission("orders.ship_order")]
    service = None

    @extend_schema(tags=TAGS, request=None,
                   responses={200: OrderDetailSerializer, **errors(409)})
    def post(self, request, order_id):
        order_for_request(request, order_id)
        with api_action_names(request, order_id):
            order = type(self).service(order_id=order_id)
        return render(request, order)


class OrderDeliverApi(_NoInputActionApi):
    """Mark a shipped order delivered (OrderDelivered)."""

    service = staticmethod(services.order_deliver)


class OrderCompleteApi(_NoInputActionApi):
    """Complete a delivered order (OrderCompleted)."""

    service = staticmethod(services.order_complete)


IDEMPOTENCY_KEY_REQUIRED = OpenApiParameter(
    "Idempotency-Key", str, OpenApiParameter.HEADER, required=True,
    description="1–255 characters; the refund's identity. A retry with the same key and "
                "body answers the first response; another body → 422.")
_REFUND_NAMESPACE = uuid.UUID("5b8f2c1d-7e4a-4f09-9a3c-2d6e8b1f0c47")


class OrderRefundApi(APIView):
    """Refund part or all of what was captured, with a reason (support). Requires an
    `Idempotency-Key`: the refund's id derives from it, so a retry never refunds twice. The
    refund saga calls the payment processor: the answer is 202, and the outcome shows as
    `refunded_amount` on the order and RefundIssued / RefundFailed in its events."""

    permission_classes = [HasPermission("orders.refund_order")]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "OrderRefundInput"

        amount = serializers.DecimalField(max_digits=12, decimal_places=2,
                                          min_value=Decimal("0.01"))
        reason = serializers.CharField(max_length=500)

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "OrderRefund"

        refund_id = serializers.UUIDField()
        amount = serializers.DecimalField(max_digits=12, decimal_places=2)
        reason = serializers.CharField()
        status = serializers.ChoiceField(choices=["requested"])
        order = OrderDetailSerializer()

    @extend_schema(tags=TAGS, request=InputSerializer, parameters=[IDEMPOTENCY_KEY_REQUIRED],
                   responses={202: OutputSerializer, **errors(409, 422)})
    def post(self, request, order_id):
        order_for_request(request, order_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        key = request.headers.get(IDEMPOTENCY_KEY_REQUIRED.name)
        if not key:
            raise ValidationFailed("A refund needs an Idempotency-Key.", details={
                "Idempotency-Key": ["Required: it makes the refund safe to retry."]})
        refund_id = uuid.uuid5(_REFUND_NAMESPACE, f"{order_id}:{key}")
        args = data.validated_data

        def work():
            with api_action_names(request, order_id):
                order = services.order_request_refund(
                    order_id=order_id, amount=args["amount"], reason=args["reason"],
                    refund_id=refund_id)
            body = self.OutputSerializer({
                "refund_id": refund_id, "amount": args["amount"], "reason": args["reason"],
                "status": "requested", "order": order}, context={
                "caller": caller(request)}).data
            return 202, body

        return idempotent_response(request, scope="orders.refund", owner=str(order_id),
                                   payload=request.data, work=work)
