"""Staff API over sagas, and the cancellation approval decision."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from commerce.api.pagination import DefaultPagination
from commerce.api.permissions import HasPermission
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
        paginator = DefaultPagination()
        page = paginator.paginate_queryset(
            selectors.saga_list(**filters.validated_data), request, view=self)
        return paginator.get_paginated_response(self.OutputSerializer(page, many=True).data)


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

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer}, tags=["orders"])
    def post(self, request, order_id):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        actor = context.actor_label(request.user)
        with context.bind(actor=actor):
            saga = services.cancellation_decide(order_id=order_id, actor=actor,
                                                **data.validated_data)
        return Response(self.OutputSerializer(saga).data)
