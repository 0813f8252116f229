"""Customer preferences (`/me/notification-preferences/`) and the staff API over webhook
endpoints (`/webhooks/endpoints/…`)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from commerce.api.pagination import DefaultPagination, paginated_response
from commerce.api.permissions import HasPermission
from notifications import kinds, preferences, selectors, webhooks


class PerMethodPermissions:
    """Webhook endpoints carry secrets and send our data out: each method names its model
    permission (only the admin role holds them)."""

    method_permissions: dict[str, str] = {}

    def get_permissions(self):
        # HEAD, OPTIONS and methods the view lacks (answered 405) need the view permission.
        return [HasPermission(self.method_permissions.get(self.request.method, VIEW))]


VIEW, ADD, CHANGE, DELETE = (f"notifications.{op}_webhookendpoint"
                             for op in ("view", "add", "change", "delete"))


# --- preferences ---------------------------------------------------------------------------
class KindSerializer(serializers.Serializer):
    kind = serializers.CharField()
    transactional = serializers.BooleanField()
    channels = serializers.ListField(child=serializers.CharField())


class PreferencesOutput(serializers.Serializer):
    language = serializers.CharField()
    phone_number = serializers.CharField()
    push_token = serializers.CharField()
    channels = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))
    kinds = KindSerializer(many=True)


def _preferences_data(pref) -> dict:
    return {
        "language": pref.language, "phone_number": pref.phone_number,
        "push_token": pref.push_token, "channels": preferences.effective_channels(pref),
        "kinds": [{"kind": k.name, "transactional": k.transactional, "channels": k.channels}
                  for k in kinds.CUSTOMER_KINDS],
    }


class NotificationPreferencesApi(APIView):
    """Channels per kind of message (a transactional kind keeps at least one), language,
    phone number (SMS) and push token."""

    class InputSerializer(serializers.Serializer):
        language = serializers.CharField(max_length=10, required=False, allow_blank=True)
        phone_number = serializers.CharField(max_length=20, required=False, allow_blank=True)
        push_token = serializers.CharField(max_length=512, required=False, allow_blank=True)
        channels = serializers.DictField(
            child=serializers.ListField(child=serializers.CharField(max_length=10),
                                        max_length=4, allow_empty=True),
            required=False)

        class Meta:
            ref_name = "NotificationPreferencesInput"

    @extend_schema(responses={200: PreferencesOutput}, tags=["notifications"])
    def get(self, request):
        return Response(_preferences_data(preferences.preference_for(request.user)))

    @extend_schema(request=InputSerializer, responses={200: PreferencesOutput},
                   tags=["notifications"])
    def patch(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        pref = preferences.preference_update(user=request.user, **data.validated_data)
        return Response(_preferences_data(pref))


# --- webhook endpoints (staff) -------------------------------------------------------------
class EndpointSerializer(serializers.Serializer):
    class Meta:
        ref_name = "WebhookEndpoint"

    id = serializers.UUIDField()
    name = serializers.CharField()
    url = serializers.URLField()
    event_types = serializers.ListField(child=serializers.CharField())
    is_active = serializers.BooleanField()
    consecutive_failures = serializers.IntegerField()
    disabled_at = serializers.DateTimeField(allow_null=True)
    disabled_reason = serializers.CharField()
    created_at = serializers.DateTimeField()


class EndpointWithSecretSerializer(EndpointSerializer):
    class Meta:
        ref_name = "WebhookEndpointWithSecret"

    secret = serializers.CharField()


class EndpointInput(serializers.Serializer):
    class Meta:
        ref_name = "WebhookEndpointInput"

    name = serializers.CharField(max_length=100)
    url = serializers.URLField(max_length=1000)
    event_types = serializers.ListField(child=serializers.CharField(max_length=100),
                                        min_length=1, max_length=100)
    secret = serializers.CharField(max_length=200, min_length=16, required=False)


class WebhookEndpointListApi(PerMethodPermissions, APIView):
    method_permissions = {"GET": VIEW, "POST": ADD}
    pagination_class = DefaultPagination

    @extend_schema(responses={200: EndpointSerializer(many=True)}, tags=["webhooks"])
    def get(self, request):
        return paginated_response(self, request, selectors.webhook_endpoint_list(),
                                  EndpointSerializer)

    @extend_schema(request=EndpointInput, responses={201: EndpointWithSecretSerializer},
                   tags=["webhooks"])
    def post(self, request):
        data = EndpointInput(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint = webhooks.webhook_endpoint_create(**data.validated_data)
        return Response(EndpointWithSecretSerializer(endpoint).data,
                        status=status.HTTP_201_CREATED)


class WebhookEndpointDetailApi(PerMethodPermissions, APIView):
    method_permissions = {"GET": VIEW, "PATCH": CHANGE, "DELETE": DELETE}

    class UpdateInput(EndpointInput):
        class Meta:
            ref_name = "WebhookEndpointUpdate"

        def __init__(self, *args, **kwargs):
            super().__init__(*args, partial=True, **kwargs)

    @extend_schema(responses={200: EndpointWithSecretSerializer}, tags=["webhooks"])
    def get(self, request, endpoint_id):
        endpoint = selectors.webhook_endpoint_get(endpoint_id=endpoint_id)
        return Response(EndpointWithSecretSerializer(endpoint).data)

    @extend_schema(request=UpdateInput, responses={200: EndpointWithSecretSerializer},
                   tags=["webhooks"])
    def patch(self, request, endpoint_id):
        data = self.UpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint = webhooks.webhook_endpoint_update(endpoint_id=endpoint_id,
                                                    **data.validated_data)
        return Response(EndpointWithSecretSerializer(endpoint).data)

    @extend_schema(responses={204: None}, tags=["webhooks"])
    def delete(self, request, endpoint_id):
        selectors.webhook_endpoint_get(endpoint_id=endpoint_id).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookEndpointEnableApi(APIView):
    """Re-enable an endpoint (after it was disabled for failing); pending deliveries resume."""

    permission_classes = [HasPermission(CHANGE)]

    @extend_schema(request=None, responses={200: EndpointSerializer}, tags=["webhooks"])
    def post(self, request, endpoint_id):
        endpoint = webhooks.webhook_endpoint_enable(endpoint_id=endpoint_id)
        return Response(EndpointSerializer(endpoint).data)


class AttemptSerializer(serializers.Serializer):
    class Meta:
        ref_name = "WebhookAttempt"

    attempt = serializers.IntegerField()
    attempted_at = serializers.DateTimeField()
    status_code = serializers.IntegerField(allow_null=True)
    latency_ms = serializers.IntegerField()
    error = serializers.CharField()


class DeliverySerializer(serializers.Serializer):
    class Meta:
        ref_name = "WebhookDelivery"

    id = serializers.UUIDField()
    event_id = serializers.UUIDField()
    event_type = serializers.CharField()
    aggregate_id = serializers.UUIDField()
    aggregate_version = serializers.IntegerField()
    status = serializers.CharField()
    attempts = serializers.IntegerField()
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    last_status_code = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    delivered_at = serializers.DateTimeField(allow_null=True)
    attempt_log = AttemptSerializer(many=True)


class WebhookDeliveryListApi(APIView):
    permission_classes = [HasPermission("notifications.view_webhookdelivery")]
    pagination_class = DefaultPagination

    @extend_schema(responses={200: DeliverySerializer(many=True)}, tags=["webhooks"])
    def get(self, request, endpoint_id):
        selectors.webhook_endpoint_get(endpoint_id=endpoint_id)
        return paginated_response(self, request, selectors.webhook_delivery_list(
            endpoint_id=endpoint_id), DeliverySerializer)
