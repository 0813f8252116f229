from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from commerce.accounts import roles
from commerce.accounts.services import token_revoke, user_register
from commerce.api import throttles
from commerce.api.schema import errors


class TokenPairSerializer(serializers.Serializer):
    class Meta:
        ref_name = "TokenPair"

    access = serializers.CharField()
    refresh = serializers.CharField()


class RegisterApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [throttles.RegisterIpThrottle, throttles.RegisterAccountThrottle]

    class InputSerializer(serializers.Serializer):
        email = serializers.EmailField(max_length=254)
        password = serializers.CharField(write_only=True, min_length=8, max_length=128)
        full_name = serializers.CharField(max_length=200, required=False, allow_blank=True)

    class OutputSerializer(serializers.Serializer):
        id = serializers.UUIDField()
        email = serializers.EmailField()
        full_name = serializers.CharField()

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer, **errors(409)},
                   tags=["auth"])
    def post(self, request):
        """Create a customer account (409 `email_taken`). An email a guest checked out with
        registers as usual: the account takes over the guest's orders."""
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = user_register(**data.validated_data)
        return Response(self.OutputSerializer(user).data, status=status.HTTP_201_CREATED)


@extend_schema_view(post=extend_schema(responses={200: TokenPairSerializer, **errors(401)},
                                       tags=["auth"]))
class TokenObtainApi(TokenObtainPairView):
    """`email` (any letter case) + `password` → `access` + `refresh`. Throttled per IP and
    per account (429 `throttled`, Retry-After)."""

    authentication_classes: list = []
    throttle_classes = [throttles.TokenIpThrottle, throttles.TokenAccountThrottle]


@extend_schema_view(post=extend_schema(responses={200: TokenPairSerializer, **errors(401)},
                                       tags=["auth"]))
class TokenRefreshApi(TokenRefreshView):
    """`refresh` → a new `access` and a new `refresh`; the old refresh token is revoked
    (rotation), so a stolen one stops working once its owner refreshes."""

    authentication_classes: list = []
    throttle_classes = [throttles.RefreshIpThrottle, throttles.RefreshAccountThrottle]


class LogoutApi(APIView):
    """Revoke a refresh token (it can no longer be refreshed; access tokens already issued
    expire on their own within JWT_ACCESS_MINUTES). Repeating it is harmless."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "LogoutInput"

        refresh = serializers.CharField(max_length=4096)

    @extend_schema(request=InputSerializer, responses={204: None, **errors(401)}, tags=["auth"])
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        token_revoke(refresh=data.validated_data["refresh"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeApi(APIView):
    """Who the bearer of this token is, which staff roles they hold and the permissions
    those give ("app_label.codename", what the API and the admin check)."""

    class OutputSerializer(serializers.Serializer):
        id = serializers.UUIDField()
        email = serializers.EmailField()
        full_name = serializers.CharField()
        is_staff = serializers.BooleanField()
        roles = serializers.ListField(child=serializers.CharField())
        permissions = serializers.ListField(child=serializers.CharField())

    @extend_schema(responses={200: OutputSerializer}, tags=["auth"])
    def get(self, request):
        user = request.user
        data = {
            "id": user.id, "email": user.email, "full_name": user.full_name,
            "is_staff": user.is_staff,
            "roles": sorted(user.groups.values_list("name", flat=True)) if user.is_staff else [],
            "permissions": sorted(user.get_all_permissions()) if roles.can(user) else [],
        }
        return Response(self.OutputSerializer(data).data)
