"""One error envelope for the whole API:

    {"error": {"code": "<stable code>", "message": "<human text>", "details": {...}}}

Domain errors carry their own code and status; DRF and Django errors are mapped here."""

import logging
import math

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, JsonResponse
from rest_framework import exceptions as drf
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError

from commerce.core import outages
from commerce.core.errors import DomainError, ErrorCode

logger = logging.getLogger(__name__)

_DRF_CODES: list[tuple[type[Exception], ErrorCode]] = [
    (drf.ValidationError, ErrorCode.VALIDATION_ERROR),
    (drf.ParseError, ErrorCode.PARSE_ERROR),
    (drf.NotAuthenticated, ErrorCode.NOT_AUTHENTICATED),
    (drf.AuthenticationFailed, ErrorCode.AUTHENTICATION_FAILED),
    (drf.PermissionDenied, ErrorCode.PERMISSION_DENIED),
    (drf.NotFound, ErrorCode.NOT_FOUND),
    (drf.MethodNotAllowed, ErrorCode.METHOD_NOT_ALLOWED),
    (drf.NotAcceptable, ErrorCode.NOT_ACCEPTABLE),
    (drf.UnsupportedMediaType, ErrorCode.UNSUPPORTED_MEDIA_TYPE),
    (drf.Throttled, ErrorCode.THROTTLED),
]


def envelope(code: str, message: str, details: dict | None = None) -> dict:
    return {"error": {"code": str(code), "message": message, "details": details or {}}}


def unavailable_body(service: str) -> dict:
    return envelope(ErrorCode.SERVICE_UNAVAILABLE,
                    "A backing service is unavailable; retry later.", {"service": service})


def too_large_body() -> dict:
    return envelope(ErrorCode.PAYLOAD_TOO_LARGE, "The request body is too large.")


def exception_handler(exc, context):
    service = outages.unavailable_service(exc)
    if service is not None:
        logger.warning("answering 503: %s unavailable (%s)", service, exc.__class__.__name__)
        return Response(unavailable_body(service), status=503,
                        headers={"Retry-After": str(outages.retry_after_seconds())})
    if isinstance(exc, RequestDataTooBig):
        return Response(too_large_body(), status=413)
    if isinstance(exc, DomainError):
        response = Response(envelope(exc.code, exc.message, exc.details), status=exc.http_status)
        if exc.http_status == 503:
            response["Retry-After"] = str(outages.retry_after_seconds())
        return response
    if isinstance(exc, TokenError):
        exc = InvalidToken(exc.args[0] if exc.args else None)
    if isinstance(exc, Http404):
        exc = drf.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # unexpected: a real 500, logged by Django
    code = next((c for cls, c in _DRF_CODES if isinstance(exc, cls)), None)
    if isinstance(exc, drf.AuthenticationFailed) and response.status_code == 401:
        code = ErrorCode.AUTHENTICATION_FAILED
    code = code or ErrorCode.CONFLICT
    if isinstance(exc, drf.ValidationError):
        details = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        message = "The request is invalid."
    elif isinstance(exc, drf.Throttled):
        # Retry-After is also a header (set by DRF); clients reading only the body see it too.
        wait = math.ceil(exc.wait) if exc.wait is not None else None
        details = {"retry_after": wait} if wait is not None else {}
        message = "Too many requests; retry later."
    else:
        details = {}
        message = str(exc.detail) if hasattr(exc, "detail") else str(exc)
        if isinstance(exc, InvalidToken):
            message = "The token is invalid or expired."
    response.data = envelope(code, message, details)
    return response


# Django-level handlers so URLs DRF never sees (unknown paths, crashes) also answer JSON
# under /api/.
def json_404(request, exception=None):
    return JsonResponse(envelope(ErrorCode.NOT_FOUND, "Not found."), status=404)


def json_500(request):
    return JsonResponse(
        envelope(ErrorCode.INTERNAL_ERROR, "An unexpected error occurred; it has been logged."),
        status=500,
    )
