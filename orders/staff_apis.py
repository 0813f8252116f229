"""Staff actions on an order (support role): ship, deliver, complete. Each calls the same
service as the back office; repeating an action whose effect is recorded answers the order
unchanged (the services are idempotent), so a support tool may retry freely."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.views import APIView

from commerce.api.permissions import IsSupportStaff
from commerce.api.schema import errors
from orders import services
from orders.access import api_action_names, order_for_request
from orders.apis import TAGS, render
from orders.serializers import OrderDetailSerializer


class OrderShipApi(APIView):
    """Kept thin on purpose: the shipping work (labels, split shipments) extends this."""

    permission_classes = [IsSupportStaff]

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
    permission_classes = [IsSupportStaff]
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
