"""Reservation endpoints: thin views over inventory.services. Staff only (reading:
`inventory.view_reservation`; reserving and lifecycle actions: `inventory.manage_reservation`);
services take the order id, so each action resolves the reservation id first."""

import uuid

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from commerce.api.idempotency import idempotent_response
from commerce.api.pagination import DefaultPagination
from commerce.api.permissions import HasPermission
from commerce.api.schema import errors, idempotent
from inventory import selectors, services
from inventory.apis import TAGS, SkuField, paginate, quantity_field
from inventory.models import Reservation

VIEW = "inventory.view_reservation"
MANAGE = "inventory.manage_reservation"


class ReservationOutput(serializers.Serializer):
    @extend_schema_serializer(component_name="InventoryReservationLine")
    class LineOutput(serializers.Serializer):
        sku = serializers.CharField()
        quantity = serializers.IntegerField()

    id = serializers.UUIDField()
    order_id = serializers.UUIDField()
    status = serializers.CharField()
    expires_at = serializers.DateTimeField()
    reason = serializers.CharField()
    lines = LineOutput(many=True, source="lines.all")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


# --- reservations ------------------------------------------------------------------------------
class ReservationCollectionApi(APIView):
    """GET: list reservations (status filter); POST: reserve all lines of an order."""

    pagination_class = DefaultPagination

    def get_permissions(self):
        if self.request.method == "POST":
            return [HasPermission(MANAGE)]
        return [HasPermission(VIEW)]

    @extend_schema_serializer(component_name="InventoryReservationCollectionListFilter")
    class ListFilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=Reservation.Status.choices, required=False)

    @extend_schema_serializer(component_name="InventoryReservationCollectionCreateInput")
    class CreateInputSerializer(serializers.Serializer):
        @extend_schema_serializer(component_name="InventoryReservationLineInput")
        class LineSerializer(serializers.Serializer):
            sku = SkuField()
            quantity = quantity_field(min_value=1)

        order_id = serializers.UUIDField()
        lines = LineSerializer(many=True, allow_empty=False, max_length=500)
        ttl_seconds = serializers.IntegerField(min_value=1, max_value=7 * 24 * 3600,
                                               required=False)

        def validate_lines(self, lines):
            skus = [line["sku"] for line in lines]
            duplicates = sorted({s for s in skus if skus.count(s) > 1})
            if duplicates:
                raise serializers.ValidationError(
                    f"Each sku may appear once; repeated: {', '.join(duplicates)}.")
            return lines

    @extend_schema(parameters=[ListFilterSerializer],
                   responses={200: ReservationOutput(many=True)}, tags=TAGS,
                   operation_id="inventory_reservations_list")
    def get(self, request):
        filters = self.ListFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        return paginate(self, request, selectors.reservation_list(**filters.validated_data),
                         ReservationOutput)

    @extend_schema(**idempotent(request=CreateInputSerializer,
                                responses={201: ReservationOutput, 200: ReservationOutput,
                                           **errors(409)}),
                   tags=TAGS, operation_id="inventory_reservations_create")
    def post(self, request):
        data = self.CreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)

        def work():
            existed = selectors.reservation_get_for_order(
                order_id=data.validated_data["order_id"])
            reservation = services.stock_reserve(**data.validated_data)
            # A repeat for an order that already holds a reservation answers 200 with it.
            code = status.HTTP_200_OK if existed is not None else status.HTTP_201_CREATED
            return code, ReservationOutput(reservation).data

        return idempotent_response(request, scope="inventory.stock_reserve",
                                   owner=str(request.user.pk), payload=request.data, work=work)


class ReservationDetailApi(APIView):
    permission_classes = [HasPermission(VIEW)]

    @extend_schema(responses={200: ReservationOutput}, tags=TAGS)
    def get(self, request, reservation_id: uuid.UUID):
        return Response(ReservationOutput(
            selectors.reservation_get(reservation_id=reservation_id)).data)


class _ReservationActionApi(APIView):
    """POST /reservations/{id}/<action>/: resolve the reservation, act by its order id."""

    permission_classes = [HasPermission(MANAGE)]

    @extend_schema_serializer(component_name="InventoryReservationActionInput")
    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=200, required=False, allow_blank=True,
                                       default="")

    def act(self, reservation: Reservation, reason: str) -> Reservation:
        raise NotImplementedError

    @extend_schema(request=InputSerializer, responses={200: ReservationOutput, **errors(409)},
                   tags=TAGS)
    def post(self, request, reservation_id: uuid.UUID):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        reservation = selectors.reservation_get(reservation_id=reservation_id)
        reservation = self.act(reservation, data.validated_data["reason"])
        return Response(ReservationOutput(reservation).data)


class ReservationConfirmApi(_ReservationActionApi):
    def act(self, reservation, reason):
        return services.reservation_confirm(order_id=reservation.order_id)


class ReservationFulfillApi(_ReservationActionApi):
    def act(self, reservation, reason):
        return services.reservation_fulfill(order_id=reservation.order_id)


class ReservationReleaseApi(_ReservationActionApi):
    def act(self, reservation, reason):
        return services.reservation_release(order_id=reservation.order_id,
                                            reason=reason or "released by staff")


class ReservationRestockApi(_ReservationActionApi):
    def act(self, reservation, reason):
        return services.reservation_restock(order_id=reservation.order_id,
                                            reason=reason or "restocked by staff")

