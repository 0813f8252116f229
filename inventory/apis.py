"""Inventory HTTP API: thin views over inventory.services / inventory.selectors.

Staff only: each operation names the Django permission it needs
(commerce.api.permissions.HasPermission; which role holds it: inventory/apps.py); reading
stock needs `inventory.view_inventoryitem`. Customers and guests browse the public catalog
(inventory/catalog_apis.py). One view per URL; each HTTP method is one operation with its
own nested serializers."""

from decimal import Decimal

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from commerce.api.idempotency import idempotent_response
from commerce.api.pagination import DefaultPagination, paginated_response
from commerce.api.permissions import HasPermission
from commerce.api.schema import errors, idempotent
from inventory import selectors, services
from inventory.validation import (
    MAX_QUANTITY,
    MEASURES,
    PRODUCT_ID_MAX_LENGTH,
    PRODUCT_ID_PATTERN,
    SKU_MAX_LENGTH,
    SKU_PATTERN,
)

TAGS = ["inventory"]
MAX_PRICE_DIGITS = 12


VIEW_STOCK = "inventory.view_inventoryitem"


def paginate(view: APIView, request, queryset, serializer_cls) -> Response:
    return paginated_response(view, request, queryset, serializer_cls)


# --- serializers shared by several views (outputs only) ----------------------------------
class ItemStaffOutput(serializers.Serializer):
    sku = serializers.CharField()
    product_id = serializers.CharField()
    name = serializers.CharField()
    price = serializers.DecimalField(source="unit_price", max_digits=12, decimal_places=2)
    currency = serializers.CharField()
    active = serializers.BooleanField()
    total_quantity = serializers.IntegerField(source="total")
    reserved_quantity = serializers.IntegerField(source="reserved")
    available_quantity = serializers.IntegerField(source="available")
    low_stock_threshold = serializers.IntegerField()
    reorder_point = serializers.IntegerField()
    reorder_quantity = serializers.IntegerField()
    low_stock = serializers.BooleanField(source="is_low_stock")
    weight_kg = serializers.DecimalField(source="catalog.weight_kg", max_digits=8,
                                         decimal_places=3, allow_null=True)
    length_cm = serializers.DecimalField(source="catalog.length_cm", max_digits=6,
                                         decimal_places=1, allow_null=True)
    width_cm = serializers.DecimalField(source="catalog.width_cm", max_digits=6,
                                        decimal_places=1, allow_null=True)
    height_cm = serializers.DecimalField(source="catalog.height_cm", max_digits=6,
                                         decimal_places=1, allow_null=True)
    updated_at = serializers.DateTimeField()


class SkuField(serializers.RegexField):
    def __init__(self, **kwargs):
        super().__init__(SKU_PATTERN, max_length=SKU_MAX_LENGTH, **kwargs)


class ProductIdField(serializers.RegexField):
    def __init__(self, **kwargs):
        super().__init__(PRODUCT_ID_PATTERN, max_length=PRODUCT_ID_MAX_LENGTH, **kwargs)


class PriceField(serializers.DecimalField):
    def __init__(self, **kwargs):
        super().__init__(max_digits=MAX_PRICE_DIGITS, decimal_places=2, min_value=0, **kwargs)


def quantity_field(**kwargs):
    kwargs.setdefault("max_value", MAX_QUANTITY)
    return serializers.IntegerField(**kwargs)


def measure_field(name: str):
    """Weight (kg) or a dimension (cm) of one packed unit, for shipping."""
    digits, places, upper = MEASURES[name]
    return serializers.DecimalField(max_digits=digits, decimal_places=places,
                                    min_value=Decimal(1).scaleb(-places), max_value=upper,
                                    required=False)


# --- items --------------------------------------------------------------------------------
class ItemCollectionApi(APIView):
    """GET: list items (filters; any staff); POST: create an item (inventory staff)."""

    pagination_class = DefaultPagination

    @extend_schema_serializer(component_name="InventoryItemCollectionListFilter")
    class ListFilterSerializer(serializers.Serializer):
        q = serializers.CharField(required=False, max_length=100)
        product_id = serializers.CharField(required=False, max_length=PRODUCT_ID_MAX_LENGTH)
        active = serializers.BooleanField(required=False, allow_null=True, default=None)
        low_stock = serializers.BooleanField(required=False, allow_null=True, default=None)
        needs_reorder = serializers.BooleanField(required=False, allow_null=True, default=None)

    @extend_schema_serializer(component_name="InventoryItemCollectionCreateInput")
    class CreateInputSerializer(serializers.Serializer):
        sku = SkuField()
        product_id = ProductIdField()
        name = serializers.CharField(max_length=200)
        price = PriceField()
        currency = serializers.RegexField(r"^[A-Z]{3}$", required=False, default="USD")
        total_quantity = quantity_field(min_value=0, required=False, default=0)
        low_stock_threshold = quantity_field(min_value=0, required=False, default=5)
        reorder_point = quantity_field(min_value=0, required=False, default=10)
        reorder_quantity = quantity_field(min_value=0, required=False, default=50)
        active = serializers.BooleanField(required=False, default=True)
        weight_kg = measure_field("weight_kg")
        length_cm = measure_field("length_cm")
        width_cm = measure_field("width_cm")
        height_cm = measure_field("height_cm")

    def get_permissions(self):
        if self.request.method == "POST":
            return [HasPermission("inventory.add_inventoryitem")]
        return [HasPermission(VIEW_STOCK)]

    @extend_schema(parameters=[ListFilterSerializer], responses={200: ItemStaffOutput(many=True)},
                   tags=TAGS, operation_id="inventory_items_list")
    def get(self, request):
        filters = self.ListFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        args = {k: v for k, v in filters.validated_data.items() if v not in (None, "")}
        return paginate(self, request, selectors.item_list(**args), ItemStaffOutput)

    @extend_schema(**idempotent(request=CreateInputSerializer,
                                responses={201: ItemStaffOutput, **errors(409)}),
                   tags=TAGS, operation_id="inventory_items_create")
    def post(self, request):
        data = self.CreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)

        def work():
            item = services.item_create(**data.validated_data)
            return status.HTTP_201_CREATED, ItemStaffOutput(item).data

        return idempotent_response(request, scope="inventory.item_create",
                                   owner=str(request.user.pk), payload=request.data, work=work)


class ItemDetailApi(APIView):
    """GET: one item (any staff); PATCH: change catalog fields and stock settings
    (inventory staff)."""

    @extend_schema_serializer(component_name="InventoryItemDetailUpdateInput")
    class UpdateInputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=200, required=False)
        price = PriceField(required=False)
        currency = serializers.RegexField(r"^[A-Z]{3}$", required=False)
        active = serializers.BooleanField(required=False)
        low_stock_threshold = quantity_field(min_value=0, required=False)
        reorder_point = quantity_field(min_value=0, required=False)
        reorder_quantity = quantity_field(min_value=0, required=False)
        weight_kg = measure_field("weight_kg")
        length_cm = measure_field("length_cm")
        width_cm = measure_field("width_cm")
        height_cm = measure_field("height_cm")

    def get_permissions(self):
        if self.request.method == "GET":
            return [HasPermission(VIEW_STOCK)]
        return [HasPermission("inventory.change_inventoryitem")]

    @extend_schema(responses={200: ItemStaffOutput}, tags=TAGS)
    def get(self, request, sku: str):
        return Response(ItemStaffOutput(selectors.item_get(sku=sku)).data)

    @extend_schema(request=UpdateInputSerializer, responses={200: ItemStaffOutput}, tags=TAGS)
    def patch(self, request, sku: str):
        data = self.UpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        item = services.item_update(sku=sku, **data.validated_data)
        return Response(ItemStaffOutput(item).data)


class ItemReceiveApi(APIView):
    permission_classes = [HasPermission("inventory.receive_stock")]

    @extend_schema_serializer(component_name="InventoryItemReceiveInput")
    class InputSerializer(serializers.Serializer):
        quantity = quantity_field(min_value=1)
        reason = serializers.CharField(max_length=200, required=False, allow_blank=True,
                                       default="")

    @extend_schema(request=InputSerializer, responses={200: ItemStaffOutput}, tags=TAGS)
    def post(self, request, sku: str):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        item = services.stock_receive(sku=sku, **data.validated_data)
        return Response(ItemStaffOutput(item).data)


class ItemAdjustApi(APIView):
    permission_classes = [HasPermission("inventory.adjust_stock")]

    @extend_schema_serializer(component_name="InventoryItemAdjustInput")
    class InputSerializer(serializers.Serializer):
        delta = quantity_field(min_value=-MAX_QUANTITY)
        reason = serializers.CharField(max_length=200)

        def validate_delta(self, value):
            if value == 0:
                raise serializers.ValidationError("Must not be zero.")
            return value

    @extend_schema(request=InputSerializer, responses={200: ItemStaffOutput, **errors(409)},
                   tags=TAGS)
    def post(self, request, sku: str):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        item = services.stock_adjust(sku=sku, **data.validated_data)
        return Response(ItemStaffOutput(item).data)


class ItemMovementsApi(APIView):
    permission_classes = [HasPermission("inventory.view_stockmovement")]
    pagination_class = DefaultPagination

    @extend_schema_serializer(component_name="InventoryItemMovementsOutput")
    class OutputSerializer(serializers.Serializer):
        event_id = serializers.UUIDField()
        kind = serializers.CharField()
        quantity = serializers.IntegerField()
        total_delta = serializers.IntegerField()
        reserved_delta = serializers.IntegerField()
        reason = serializers.CharField()
        reservation_id = serializers.UUIDField(allow_null=True)
        order_id = serializers.UUIDField(allow_null=True)
        actor = serializers.CharField(allow_null=True)
        created_at = serializers.DateTimeField()

    @extend_schema(responses={200: OutputSerializer(many=True)}, tags=TAGS)
    def get(self, request, sku: str):
        return paginate(self, request, selectors.movement_list(sku=sku), self.OutputSerializer)


# --- lists and dashboard --------------------------------------------------------------------
class LowStockApi(APIView):
    permission_classes = [HasPermission(VIEW_STOCK)]
    pagination_class = DefaultPagination

    @extend_schema(responses={200: ItemStaffOutput(many=True)}, tags=TAGS)
    def get(self, request):
        return paginate(self, request, selectors.low_stock_list(), ItemStaffOutput)


class ReorderApi(APIView):
    permission_classes = [HasPermission(VIEW_STOCK)]
    pagination_class = DefaultPagination

    @extend_schema_serializer(component_name="InventoryReorderOutput")
    class OutputSerializer(serializers.Serializer):
        sku = serializers.CharField()
        name = serializers.CharField()
        available_quantity = serializers.IntegerField(source="available")
        reorder_point = serializers.IntegerField()
        reorder_quantity = serializers.IntegerField()
        suggested_quantity = serializers.IntegerField()

    @extend_schema(responses={200: OutputSerializer(many=True)}, tags=TAGS)
    def get(self, request):
        return paginate(self, request, selectors.reorder_list(), self.OutputSerializer)


class SummaryApi(APIView):
    permission_classes = [HasPermission(VIEW_STOCK)]

    @extend_schema_serializer(component_name="InventorySummaryOutput")
    class OutputSerializer(serializers.Serializer):
        items = serializers.IntegerField()
        active_items = serializers.IntegerField()
        out_of_stock = serializers.IntegerField()
        low_stock = serializers.IntegerField()
        needs_reorder = serializers.IntegerField()
        total_units = serializers.IntegerField()
        reserved_units = serializers.IntegerField()
        available_units = serializers.IntegerField()
        stock_value = serializers.DictField(child=serializers.DecimalField(
            max_digits=24, decimal_places=2))
        reservations = serializers.DictField(child=serializers.IntegerField())

    @extend_schema(responses={200: OutputSerializer}, tags=TAGS)
    def get(self, request):
        return Response(self.OutputSerializer(selectors.inventory_summary()).data)
