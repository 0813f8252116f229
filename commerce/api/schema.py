"""OpenAPI generation (drf-spectacular) that tells the truth about errors.

Every operation documents the error envelope for each status it can answer: the statuses
that follow from how the view is built (input → 400, authentication → 401, a role check →
403, a path parameter or a paginated list → 404, a body → 415) are added here, and each
view declares the ones its domain adds (409, 412, 422, 428, 503) with `errors(...)`."""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import AllowAny

from commerce.core.errors import ErrorCode


class ErrorDetailSerializer(serializers.Serializer):
    class Meta:
        ref_name = "Error"

    code = serializers.ChoiceField(choices=[c.value for c in ErrorCode])
    message = serializers.CharField()
    details = serializers.DictField(
        help_text="Field → messages for invalid input; other facts (e.g. `lines` with "
                  "`sku`, `requested`, `available`) for domain refusals.")


class ErrorEnvelopeSerializer(serializers.Serializer):
    class Meta:
        ref_name = "ErrorEnvelope"

    error = ErrorDetailSerializer()


ERROR_DESCRIPTIONS = {
    400: "Invalid input (`validation_error`, `parse_error`, or a domain code such as "
         "`unknown_sku`).",
    401: "No valid credentials (`not_authenticated`, `authentication_failed`).",
    403: "Authenticated, but this role may not do this (`permission_denied`).",
    404: "No such resource, or not visible to the caller (`not_found`); for lists, a page "
         "past the end.",
    409: "Refused by the current state (`invalid_transition`, `insufficient_stock`, "
         "`concurrency_conflict`, …).",
    412: "`If-Match` does not match the current version (`precondition_failed`).",
    413: "The request body is too large (`payload_too_large`).",
    415: "The body is not JSON (`unsupported_media_type`).",
    422: "The `Idempotency-Key` was used before with a different body "
         "(`idempotency_key_reused`).",
    428: "`If-Match` is required (`precondition_required`).",
    429: "Too many requests (`throttled`); see `Retry-After`.",
    503: "A backing service is unavailable (`service_unavailable`); retry after "
         "`Retry-After`.",
}


def error_response(status: int) -> OpenApiResponse:
    return OpenApiResponse(response=ErrorEnvelopeSerializer,
                           description=ERROR_DESCRIPTIONS.get(status, "Error."))


def errors(*statuses: int) -> dict[int, OpenApiResponse]:
    """The error responses a view adds to its `extend_schema(responses=…)`."""
    return {status: error_response(status) for status in statuses}


IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key", str, OpenApiParameter.HEADER, required=False,
    description="1–255 characters. A retry with the same key and body answers the first "
                "response (`Idempotent-Replayed: true`); another body → 422.")


def idempotent(**kwargs) -> dict:
    """`extend_schema` arguments for a creating POST that honours Idempotency-Key."""
    parameters = [IDEMPOTENCY_KEY, *kwargs.pop("parameters", [])]
    responses = {**kwargs.pop("responses", {}), **errors(422)}
    return {"parameters": parameters, "responses": responses, **kwargs}


_ROLE_PERMISSIONS = {"HasPermission", "IsAdminUser"}


class CommerceAutoSchema(AutoSchema):
    """Names OpenAPI components after the serializer's qualified name, so the nested
    `InputSerializer`/`OutputSerializer` of every view (one per operation, by convention)
    become distinct components such as `RegisterApiInput` instead of colliding; and adds
    the error responses every operation can give."""

    def get_serializer_name(self, serializer, direction):
        name = super().get_serializer_name(serializer, direction)
        cls = serializer.__class__ if not isinstance(serializer, type) else serializer
        qualname = cls.__qualname__
        if "." in qualname and getattr(getattr(cls, "Meta", None), "ref_name", None) is None:
            name = qualname.replace(".", "").removesuffix("Serializer")
        return name

    def _get_response_bodies(self, direction="response"):
        # Here rather than in get_response_serializers, which @extend_schema replaces.
        bodies = super()._get_response_bodies(direction)
        present = {int(code) for code in bodies if str(code).isdigit()}
        for status in self._implied_error_statuses() - present:
            bodies[str(status)] = self._get_response_for_code(
                error_response(status), str(status), direction=direction)
        return dict(sorted(bodies.items()))

    def _implied_error_statuses(self) -> set[int]:
        statuses: set[int] = set()
        method = self.method.upper()
        has_body = method in ("POST", "PUT", "PATCH")
        if has_body:
            statuses |= {400, 413, 415}
        if self.view.get_throttles():
            statuses.add(429)
        if self._has_query_parameters():
            statuses.add(400)  # query parameters are validated
        if getattr(self.view, "authentication_classes", None):
            statuses.add(401)  # an invalid or expired token is refused everywhere
        permissions = self.view.get_permissions()
        if any(type(p).__name__ in _ROLE_PERMISSIONS for p in permissions):
            statuses.add(403)
        if not all(isinstance(p, AllowAny) for p in permissions):
            statuses.add(401)
        if "{" in self.path or self._get_pagination_parameters():
            statuses.add(404)
        return statuses

    def _has_query_parameters(self) -> bool:
        for parameter in self.get_override_parameters():
            if not isinstance(parameter, OpenApiParameter):
                return True  # a filter serializer: query parameters
            if parameter.location == OpenApiParameter.QUERY:
                return True
        return False
