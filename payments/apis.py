from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from commerce.accounts import roles
from commerce.api.pagination import DefaultPagination, paginated_response
from commerce.core.errors import NotFound
from orders.access import order_for_request
from orders.apis import ORDER_TOKEN_PARAM
from payments import selectors


class OrderPaymentListApi(APIView):
    """The order's payments with their operations, paginated. The order's owner, staff, or
    a guest with the order's access token; anyone else gets 404 (order ids must not be
    probeable)."""

    permission_classes = [AllowAny]  # order_for_request checks sign-in or the token
    pagination_class = DefaultPagination

    class OutputSerializer(serializers.Serializer):
        class OperationSerializer(serializers.Serializer):
            kind = serializers.CharField()
            amount = serializers.DecimalField(max_digits=12, decimal_places=2)
            created_at = serializers.DateTimeField()

            class Meta:
                ref_name = "PaymentOperation"

        class Meta:
            ref_name = "Payment"

        payment_id = serializers.UUIDField(source="id")
        order_id = serializers.UUIDField()
        status = serializers.CharField()
        currency = serializers.CharField()
        payment_method = serializers.CharField()
        authorized_amount = serializers.DecimalField(source="amount_authorized", max_digits=12,
                                                     decimal_places=2)
        captured_amount = serializers.DecimalField(source="amount_captured", max_digits=12,
                                                   decimal_places=2)
        refunded_amount = serializers.DecimalField(source="amount_refunded", max_digits=12,
                                                   decimal_places=2)
        gateway = serializers.CharField()
        gateway_reference = serializers.CharField()
        operations = OperationSerializer(many=True, source="operations.all")
        created_at = serializers.DateTimeField()
        updated_at = serializers.DateTimeField()

    @extend_schema(parameters=[ORDER_TOKEN_PARAM], responses={200: OutputSerializer(many=True)},
                   tags=["orders"])
    def get(self, request, order_id):
        order = order_for_request(request, order_id, token_allowed=True)
        if (request.user and request.user.is_authenticated
                and order.customer_id != request.user.pk
                and not roles.can(request.user, "payments.view_payment")):
            raise NotFound("Order not found.")
        payments = selectors.payment_list_for_order(order_id=order.order_id)
        return paginated_response(self, request, payments, self.OutputSerializer)
