"""Shipping API: the customer's tracking timeline of an order, staff shipment operations
(create a shipment for all or some lines and buy its label, retry a label, void it,
download it), and the carriers' tracking webhooks. Views stay thin: parse, call a service
or selector, render. Returns are in shipping/return_apis.py."""

import uuid

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from commerce.api.pagination import DefaultPagination, paginated_response
from commerce.api.permissions import HasPermission
from commerce.api.schema import errors
from commerce.core.errors import NotFound
from orders.access import is_staff, order_for_request
from orders.apis import ORDER_TOKEN_PARAM
from shipping import carriers, selectors, services, tracking
from shipping.models import ShipmentStatus

TAGS = ["shipping"]
_NAMESPACE = uuid.UUID("0f5e8d3c-2b1a-4c9d-8e7f-6a5b4c3d2e1f")
PDF = {(200, "application/pdf"): OpenApiTypes.BINARY}
CAN_VIEW = HasPermission("shipping.view_shipment")
CAN_CREATE = HasPermission("shipping.create_shipment")


def paginated(view: APIView, request, filter_cls, query, output_cls) -> Response:
    """A filtered, paginated list: `query(**filters)` rendered page by page."""
    filters = filter_cls(data=request.query_params)
    filters.is_valid(raise_exception=True)
    return paginated_response(view, request, query(**filters.validated_data), output_cls)


def pdf_response(label) -> HttpResponse:
    response = HttpResponse(bytes(label.content), content_type=label.content_type)
    response["Content-Disposition"] = (f'inline; filename="{label.carrier}-'
                                       f'{label.tracking_number}.pdf"')
    return response


# --- output --------------------------------------------------------------------------------
class ShipmentLineOutput(serializers.Serializer):
    line_no = serializers.IntegerField()
    sku = serializers.CharField()
    quantity = serializers.IntegerField()


class TrackingEventOutput(serializers.Serializer):
    status = serializers.CharField()
    code = serializers.CharField()
    description = serializers.CharField()
    location = serializers.CharField()
    occurred_at = serializers.DateTimeField()
    recorded_at = serializers.DateTimeField()
    source = serializers.CharField()


class ShipmentOutput(serializers.Serializer):
    """What the customer sees of a parcel."""

    shipment_id = serializers.UUIDField()
    order_id = serializers.UUIDField()
    carrier = serializers.CharField()
    service_level = serializers.CharField()
    tracking_number = serializers.CharField()
    status = serializers.ChoiceField(choices=ShipmentStatus.choices)
    lines = ShipmentLineOutput(many=True, source="lines.all")
    events = TrackingEventOutput(many=True, source="events.all")
    last_event_at = serializers.DateTimeField(allow_null=True)
    delivered_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


class ShipmentStaffOutput(ShipmentOutput):
    service_code = serializers.CharField()
    label_purchase = serializers.BooleanField()
    label_url = serializers.CharField()
    label_cost = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    label_currency = serializers.CharField()
    parcel = serializers.JSONField(allow_null=True)
    failure_code = serializers.CharField()
    failure_message = serializers.CharField()
    cancel_reason = serializers.CharField()
    updated_at = serializers.DateTimeField()


def render_shipment(request, shipment, *, status_code=200) -> Response:
    cls = ShipmentStaffOutput if is_staff(request) else ShipmentOutput
    return Response(cls(shipment).data, status=status_code)


# --- the order's shipments: tracking timeline (owner or staff), create (staff) ----------
class OrderTrackingApi(APIView):
    permission_classes = [AllowAny]  # a guest with the order's access token may read

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "OrderTracking"

        order_id = serializers.UUIDField()
        status = serializers.CharField()
        shipments = ShipmentOutput(many=True)

    @extend_schema(tags=TAGS, parameters=[ORDER_TOKEN_PARAM], responses={200: OutputSerializer})
    def get(self, request, order_id):
        """The order's tracking timeline: every parcel with its lines and carrier scans,
        oldest parcel first. The order's customer (or a guest with its X-Order-Token) or
        staff; others: 404."""
        order = order_for_request(request, order_id, token_allowed=True)
        shipments = selectors.shipments_for_order(order_id=order.order_id)
        cls = ShipmentStaffOutput if is_staff(request) else ShipmentOutput
        return Response({"order_id": str(order.order_id), "status": order.status,
                         "shipments": cls(shipments, many=True).data})


class ShipmentCreateApi(APIView):
    permission_classes = [CAN_CREATE]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ShipmentCreateInput"

        class LineSerializer(serializers.Serializer):
            class Meta:
                ref_name = "ShipmentCreateLine"

            sku = serializers.CharField(max_length=255)
            quantity = serializers.IntegerField(min_value=1, max_value=1_000_000)

        lines = LineSerializer(many=True, required=False, allow_empty=False,
                               help_text="Omit for every unit not shipped yet.")
        carrier = serializers.CharField(max_length=20, required=False, allow_null=True)
        service_level = serializers.CharField(max_length=20, required=False, allow_null=True)

    @extend_schema(tags=TAGS, request=InputSerializer,
                   responses={201: ShipmentStaffOutput, **errors(409, 503)},
                   parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER,
                                                description="The same key returns the same "
                                                            "shipment.")])
    def post(self, request, order_id):
        """Staff put all or some lines of a confirmed (or partially shipped) order in a
        shipment and buy its label (carrier and service: as asked, else the customer's
        choice at checkout). 201 with the shipment even when the carrier was down (status
        label_pending, bought later) or refused the label (label_failed, with its words)."""
        order_for_request(request, order_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        args = data.validated_data
        key = request.headers.get("Idempotency-Key")
        shipment_id = uuid.uuid5(_NAMESPACE, f"{request.user.pk}:{key}") if key else None
        lines = [dict(line) for line in args["lines"]] if args.get("lines") else None
        shipment = services.shipment_create(
            order_id=order_id, lines=lines, carrier=args.get("carrier"),
            service_level=args.get("service_level"), shipment_id=shipment_id)
        return render_shipment(request, shipment, status_code=status.HTTP_201_CREATED)


class OrderShipmentsApi(OrderTrackingApi, ShipmentCreateApi):
    """GET: OrderTrackingApi (owner or staff); POST: ShipmentCreateApi (staff)."""

    def get_permissions(self):
        return [CAN_CREATE if self.request.method == "POST" else IsAuthenticated()]


# --- staff: shipments ------------------------------------------------------------------
class ShipmentListApi(APIView):
    permission_classes = [CAN_VIEW]
    pagination_class = DefaultPagination

    class FilterSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ShipmentListFilter"

        status = serializers.ChoiceField(choices=ShipmentStatus.choices, required=False)
        carrier = serializers.CharField(max_length=20, required=False)
        order_id = serializers.UUIDField(required=False)
        tracking_number = serializers.CharField(max_length=100, required=False)

    @extend_schema(tags=TAGS, parameters=[FilterSerializer],
                   responses={200: ShipmentStaffOutput(many=True)})
    def get(self, request):
        """Shipments newest first, paginated, with their lines and tracking timeline."""
        return paginated(self, request, self.FilterSerializer, selectors.shipment_list,
                         ShipmentStaffOutput)


class ShipmentDetailApi(APIView):
    permission_classes = [CAN_VIEW]

    @extend_schema(tags=TAGS, responses={200: ShipmentStaffOutput})
    def get(self, request, shipment_id):
        return render_shipment(request, selectors.shipment_get(shipment_id=shipment_id))


class ShipmentLabelApi(APIView):
    permission_classes = [CAN_VIEW]

    @extend_schema(tags=TAGS, responses=PDF)
    def get(self, request, shipment_id):
        """The label PDF the carrier sold (404 until one was bought)."""
        selectors.shipment_get(shipment_id=shipment_id)
        return pdf_response(selectors.label_get(label_id=shipment_id))


class ShipmentPurchaseLabelApi(APIView):
    permission_classes = [CAN_CREATE]

    @extend_schema(tags=TAGS, request=None,
                   responses={200: ShipmentStaffOutput, **errors(409, 503)})
    def post(self, request, shipment_id):
        """Buy the label again after a refusal or an outage (same idempotency key, so the
        carrier never sells two); a shipment that has its label is returned unchanged."""
        return render_shipment(request, services.shipment_purchase_label(
            shipment_id=shipment_id))


class ShipmentVoidApi(APIView):
    permission_classes = [HasPermission("shipping.void_shipment")]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ShipmentVoidInput"

        reason = serializers.CharField(max_length=500, required=False, allow_blank=True,
                                       default="")

    @extend_schema(tags=TAGS, request=InputSerializer,
                   responses={200: ShipmentStaffOutput, **errors(409, 503)})
    def post(self, request, shipment_id):
        """Void the label and cancel the shipment before the carrier has the parcel: its
        units are held for the order again (409 shipment_not_cancellable after pickup)."""
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return render_shipment(request, services.shipment_void(
            shipment_id=shipment_id, reason=data.validated_data["reason"]))


# --- carrier webhooks ------------------------------------------------------------------
class CarrierWebhookApi(APIView):
    """Tracking pushes from FedEx, UPS and DHL, each verified the way that carrier signs
    (401 webhook_signature_invalid, nothing recorded). Replays record nothing new."""

    permission_classes = [AllowAny]
    authentication_classes = []

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CarrierWebhookReceipt"

        received = serializers.IntegerField()
        recorded = serializers.IntegerField()
        unknown = serializers.IntegerField()

    @extend_schema(tags=TAGS, request=OpenApiTypes.OBJECT,
                   responses={200: OutputSerializer, **errors(401, 503)}, auth=[])
    def post(self, request, carrier: str):
        if carrier not in carriers.enabled():
            raise NotFound("No such carrier.")
        counts = tracking.webhook_receive(carrier=carrier, headers=request.headers,
                                          body=request.body)
        return Response(self.OutputSerializer(counts).data)
