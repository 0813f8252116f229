"""Staff API over sagas, and the cancellation approval decision."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from commerce.api.pagination import DefaultPagination, paginated_response
from commerce.api.permissions import HasPermission
from commerce.api.schema import errors
from commerce.core import context
from sagas import selectors, services
from sagas.models import SagaStatus


class StepSerializer(serializers.Serializer):
    class Meta:
        ref_name = "SagaStep"

    step = serializers.CharField()
    action = serializers.CharField()
    status = serializers.CharField()
    attempts = serializers.IntegerField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    duration_ms = serializers.IntegerField(allow_null=True)
    last_error = serializers.CharField()


class SagaSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    saga_type = serializers.CharField()
    correlation_id = serializers.UUIDField()
    status = serializers.CharField()
    current_step = serializers.IntegerField()
    attempts = serializers.IntegerField()
    deadline = serializers.DateTimeField(allow_null=True)
    last_error = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


class SagaListApi(APIView):
    permission_classes = [HasPermission("sagas.view_sagainstance")]
    pagination_class = DefaultPagination

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=SagaStatus.choices, required=False)
        saga_type = serializers.CharField(max_length=64, required=False)
        correlation_id = serializers.UUIDField(required=False)

        class Meta:
            ref_name = "SagaFilter"

    class OutputSerializer(SagaSerializer):
        class Meta:
            ref_name = "SagaSummary"

    @extend_schema(parameters=[FilterSerializer], responses={200: OutputSerializer(many=True)},
                   tags=["sagas"])
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        return paginated_response(self, request, selectors.saga_list(**filters.validated_data),
                                  self.OutputSerializer)


class SagaDetailApi(APIView):
    permission_classes = [HasPermission("sagas.view_sagainstance")]

    class OutputSerializer(SagaSerializer):
        saga_data = serializers.JSONField()
        steps = StepSerializer(many=True, source="steps.all")

        class Meta:
            ref_name = "SagaDetail"

    @extend_schema(responses={200: OutputSerializer}, tags=["sagas"])
    def get(self, request, saga_id):
        saga = selectors.saga_get(saga_id=saga_id)
        return Response(self.OutputSerializer(saga).data)


class CancellationApproveApi(APIView):
    """Staff decide on a cancellation waiting for approval (large refund, or after
    fulfilment): approve → the cancellation proceeds; reject → the order is unchanged."""

    permission_classes = [HasPermission("orders.approve_cancellation")]

    class InputSerializer(serializers.Serializer):
        approve = serializers.BooleanField()
        reason = serializers.CharField(max_length=500, required=False, allow_blank=True,
                                       default="")

        class Meta:
            ref_name = "CancellationDecisionInput"

    class OutputSerializer(SagaSerializer):
        saga_data = serializers.JSONField()

        class Meta:
            ref_name = "CancellationDecision"

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer, **errors(409)},
                   tags=["orders"])
    def post(self, request, order_id):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return _decide(request, order_id, **data.validated_data)


def _decide(request, order_id, *, approve: bool, reason: str) -> Response:
    actor = context.actor_label(request.user)
    with context.bind(actor=actor):
        saga = services.cancellation_decide(order_id=order_id, actor=actor, approve=approve,
                                            reason=reason)
    return Response(CancellationApproveApi.OutputSerializer(saga).data)


class CancellationRejectApi(APIView):
    """Staff reject a cancellation waiting for approval: the order keeps its status and
    `cancellation_pending` clears (CancellationRejected). 409 `invalid_saga_state` when the
    cancellation is not waiting for a decision (it is already being carried out)."""

    permission_classes = [HasPermission("orders.approve_cancellation")]

    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=500)

        class Meta:
            ref_name = "CancellationRejectInput"

    @extend_schema(request=InputSerializer,
                   responses={200: CancellationApproveApi.OutputSerializer, **errors(409)},
                   tags=["orders"])
    def post(self, request, order_id):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return _decide(request, order_id, approve=False, reason=data.validated_data["reason"])
