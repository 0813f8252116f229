from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from commerce.accounts import roles
from orders import selectors as order_selectors
from payments import selectors


class OrderPaymentListApi(APIView):
    """The order's payments with their operations. The order's owner or staff; anyone
    else gets 404 (order ids must not be probeable)."""

    class OutputSerializer(serializers.Serializer):
        class OperationSerializer(serializers.Serializer):
            kind = serializers.CharField()
            amount = serializers.DecimalField(max_digits=12, decimal_places=2)
            created_at = serializers.DateTimeField()

            class Meta:
                ref_name = "PaymentOperation"

        class Meta:
            ref_name = "Payment"

        id = serializers.UUIDField()
        status = serializers.CharField()
        currency = serializers.CharField()
        payment_method = serializers.CharField()
        amount_authorized = serializers.DecimalField(max_digits=12, decimal_places=2)
        amount_captured = serializers.DecimalField(max_digits=12, decimal_places=2)
        amount_refunded = serializers.DecimalField(max_digits=12, decimal_places=2)
        gateway = serializers.CharField()
        gateway_reference = serializers.CharField()
        operations = OperationSerializer(many=True, source="operations.all")
        created_at = serializers.DateTimeField()
        updated_at = serializers.DateTimeField()

    @extend_schema(responses={200: OutputSerializer(many=True)}, tags=["orders"])
    def get(self, request, order_id):
        is_staff = roles.can(request.user, "payments.view_payment")
        order = order_selectors.order_get(
            order_id=order_id, customer_id=None if is_staff else request.user.id)
        payments = selectors.payment_list_for_order(order_id=order.order_id)
        return Response(self.OutputSerializer(payments, many=True).data)
