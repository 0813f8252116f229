"""The public catalog: what is for sale, for anyone (no token needed). Customers see an
availability band; staff (with a token) also see the exact number of units available."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from commerce.accounts import roles
from commerce.api.pagination import DefaultPagination, paginated_response
from inventory import selectors
from inventory.validation import PRODUCT_ID_MAX_LENGTH

TAGS = ["catalog"]


class CatalogProductSerializer(serializers.Serializer):
    class Meta:
        ref_name = "CatalogProduct"

    sku = serializers.CharField()
    product_id = serializers.CharField()
    name = serializers.CharField()
    price = serializers.DecimalField(source="unit_price", max_digits=12, decimal_places=2)
    currency = serializers.CharField()
    availability = serializers.ChoiceField(choices=selectors.AVAILABILITY_BANDS)
    available_quantity = serializers.SerializerMethodField(
        help_text="Units available now: staff only (null for everyone else).")

    def get_available_quantity(self, product) -> int | None:
        return product.available if self.context.get("staff") else None


def _context(request) -> dict:
    return {"staff": roles.has_role(request.user, *roles.ALL)}


class CatalogListApi(APIView):
    permission_classes = [AllowAny]
    pagination_class = DefaultPagination

    class FilterSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CatalogFilter"

        q = serializers.CharField(required=False, max_length=100,
                                  help_text="Search in sku and name.")
        product_id = serializers.CharField(required=False, max_length=PRODUCT_ID_MAX_LENGTH)
        availability = serializers.ChoiceField(choices=selectors.AVAILABILITY_BANDS,
                                               required=False)
        currency = serializers.RegexField(r"^[A-Z]{3}$", required=False)
        min_price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0,
                                             required=False)
        max_price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0,
                                             required=False)
        ordering = serializers.ChoiceField(choices=list(selectors.CATALOG_ORDERINGS),
                                           required=False, default="sku")

    @extend_schema(parameters=[FilterSerializer],
                   responses={200: CatalogProductSerializer(many=True)}, tags=TAGS)
    def get(self, request):
        """Products for sale, paginated, with search (`q`) and filters."""
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        args = {k: v for k, v in filters.validated_data.items() if v not in (None, "")}
        return paginated_response(self, request, selectors.catalog_list(**args),
                                  CatalogProductSerializer, context=_context(request))


class CatalogDetailApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses={200: CatalogProductSerializer}, tags=TAGS)
    def get(self, request, sku: str):
        """One product for sale (404 if unknown or no longer sold)."""
        return Response(CatalogProductSerializer(selectors.catalog_get(sku=sku),
                                                 context=_context(request)).data)
