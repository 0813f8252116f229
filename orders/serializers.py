"""The order's API representation, shared by every operation that answers an order (the
orders API, cart checkout, staff actions), so one thing has one name everywhere: money
fields are named as in the `OrderPlaced` event (`subtotal`, `shipping`, `discount`, `tax`,
`total`) and `allowed_actions` are the API actions this caller can call now."""

from dataclasses import dataclass

from rest_framework import serializers

from orders import lifecycle
from orders.validation import ADDRESS_FIELDS

# (lifecycle transition, API action = the endpoint that performs it, the permission it
# needs; the order's owner may `update` and `cancel` their own order without it)
API_ACTIONS = (
    ("update", "update", "orders.update_order"),  # PATCH /orders/{id}/
    ("request_cancellation", "cancel", "orders.cancel_order"),  # POST /orders/{id}/cancel/
    ("ship", "ship", "orders.ship_order"),  # POST /orders/{id}/ship/
    ("deliver", "deliver", "orders.ship_order"),  # POST /orders/{id}/deliver/
    ("complete", "complete", "orders.ship_order"),  # POST /orders/{id}/complete/
    ("reject_cancellation", "approve_cancellation",  # POST …/cancel/approve/
     "orders.approve_cancellation"),
    ("reject_cancellation", "reject_cancellation",  # POST …/cancel/reject/
     "orders.approve_cancellation"),
    ("request_refund", "refund", "orders.refund_order"),  # POST /orders/{id}/refunds/
    ("create_shipment", "create_shipment",  # POST /orders/{id}/shipments/ (shipping app)
     "shipping.create_shipment"),
    ("request_return", "request_return",  # POST /orders/{id}/returns/ (shipping app)
     "shipping.decide_return"),
    ("archive", "archive", "orders.archive_order"),  # DELETE /orders/{id}/
)
OWNER_ACTIONS = frozenset({"update", "cancel", "request_return"})
ACTION_PERMISSIONS = frozenset(perm for _, _, perm in API_ACTIONS)


@dataclass(frozen=True)
class Caller:
    """Who asks: their user id (None for a guest with an order token) and which of the
    ACTION_PERMISSIONS they hold."""

    user_id: object = None
    perms: frozenset[str] = frozenset()


ANY_STAFF = Caller(user_id=object(), perms=ACTION_PERMISSIONS)  # everything (back office)


def api_actions(order, *, caller: Caller) -> list[str]:
    """The API actions `caller` can call on `order` now."""
    machine = order.lifecycle()
    owner = caller.user_id is not None and caller.user_id == order.customer_id
    actions = []
    for transition, action, perm in API_ACTIONS:
        if not (perm in caller.perms or (owner and action in OWNER_ACTIONS)):
            continue
        if not lifecycle.can(machine, transition):
            continue
        if action == "refund" and order.captured_amount - order.refunded_amount <= 0:
            continue
        actions.append(action)
    return actions


class AddressSerializer(serializers.Serializer):
    """A shipping address (the fields of orders.validation.ADDRESS_FIELDS)."""

    class Meta:
        ref_name = "Address"

    name = serializers.CharField(max_length=ADDRESS_FIELDS["name"][1])
    line1 = serializers.CharField(max_length=ADDRESS_FIELDS["line1"][1])
    line2 = serializers.CharField(max_length=ADDRESS_FIELDS["line2"][1], required=False,
                                  allow_blank=True)
    city = serializers.CharField(max_length=ADDRESS_FIELDS["city"][1])
    region = serializers.CharField(max_length=ADDRESS_FIELDS["region"][1], required=False,
                                   allow_blank=True)
    postal_code = serializers.CharField(max_length=ADDRESS_FIELDS["postal_code"][1])
    country = serializers.RegexField(r"^[A-Za-z]{2}$", max_length=2,
                                     help_text="ISO 3166-1 alpha-2, e.g. `DE`.")
    phone = serializers.CharField(max_length=ADDRESS_FIELDS["phone"][1], required=False,
                                  allow_blank=True)

    def to_internal_value(self, data):
        unknown = sorted(set(data) - set(self.fields)) if isinstance(data, dict) else []
        value = super().to_internal_value(data)
        if unknown:
            raise serializers.ValidationError({str(k)[:50]: ["Unknown field."] for k in unknown})
        return value


class OrderLineSerializer(serializers.Serializer):
    class Meta:
        ref_name = "OrderLine"

    line_no = serializers.IntegerField()
    sku = serializers.CharField()
    name = serializers.CharField()
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2)
    quantity = serializers.IntegerField()
    line_total = serializers.DecimalField(max_digits=14, decimal_places=2)


def _money(**kw):
    return serializers.DecimalField(max_digits=14, decimal_places=2, **kw)


class OrderSummarySerializer(serializers.Serializer):
    """An order in a list. Context: `caller` (a Caller; none: no actions)."""

    class Meta:
        ref_name = "OrderSummary"

    order_id = serializers.UUIDField()
    customer_id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=lifecycle.OrderStatus.choices)
    cancellation_pending = serializers.BooleanField()
    archived = serializers.BooleanField()
    currency = serializers.CharField()
    subtotal = _money()
    shipping = _money(source="shipping_total")
    discount = _money(source="discount_total")
    tax = _money(source="tax_total")
    total = _money(source="total_amount")
    item_count = serializers.IntegerField()
    version = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    allowed_actions = serializers.SerializerMethodField()

    def get_allowed_actions(self, order) -> list[str]:
        return api_actions(order, caller=self.context.get("caller", Caller()))


class OrderDetailSerializer(OrderSummarySerializer):
    class Meta:
        ref_name = "Order"

    captured_amount = _money()
    refunded_amount = _money()
    shipping_address = AddressSerializer()
    notes = serializers.CharField()
    payment_method = serializers.CharField(allow_null=True)
    channel = serializers.CharField()
    carrier = serializers.CharField()
    tracking_number = serializers.CharField()
    failure_code = serializers.CharField()
    failure_reason = serializers.CharField()
    cancellation_reason = serializers.CharField()
    lines = OrderLineSerializer(many=True)
