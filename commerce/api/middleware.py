"""Errors that never reach DRF's exception handler still answer in the envelope under /api/:
unknown URLs and crashes with DEBUG on (Django's technical pages), Django's own 400/403/413
pages, oversized or hostile requests refused before any view runs, and outages raised in
Django views, middleware or the admin (503 with Retry-After on every path)."""

import logging
import sys

from django.conf import settings
from django.core.exceptions import BadRequest, SuspiciousOperation
from django.core.signals import got_request_exception
from django.dispatch import receiver
from django.http import HttpResponse, JsonResponse

from commerce.api import hostile
from commerce.api.exceptions import envelope, too_large_body, unavailable_body
from commerce.core import outages
from commerce.core.errors import ErrorCode

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"
_EXCEPTION_ATTR = "_commerce_unhandled_exception"

_STATUS_CODES = {
    400: (ErrorCode.BAD_REQUEST, "The request is malformed."),
    401: (ErrorCode.NOT_AUTHENTICATED, "Authentication credentials were not provided."),
    403: (ErrorCode.PERMISSION_DENIED, "You do not have permission to perform this action."),
    404: (ErrorCode.NOT_FOUND, "Not found."),
    405: (ErrorCode.METHOD_NOT_ALLOWED, "Method not allowed."),
    406: (ErrorCode.NOT_ACCEPTABLE, "Cannot satisfy the request's Accept header."),
    413: (ErrorCode.PAYLOAD_TOO_LARGE, "The request body is too large."),
    414: (ErrorCode.URI_TOO_LONG, "The request URL is too long."),
    415: (ErrorCode.UNSUPPORTED_MEDIA_TYPE, "Unsupported media type."),
    429: (ErrorCode.THROTTLED, "Too many requests; retry later."),
    503: (ErrorCode.SERVICE_UNAVAILABLE, "A backing service is unavailable; retry later."),
}
# Headers of the replaced response that still matter to the client.
_KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate", "X-Correlation-ID")


@receiver(got_request_exception)
def _remember_exception(sender, request=None, **kwargs):
    """Django turns an exception from a view or middleware into a 500 response before any
    outer middleware sees it; keep it on the request so the 500 can become a 503 when it
    was an outage."""
    if request is not None:
        setattr(request, _EXCEPTION_ATTR, sys.exc_info()[1])


def is_api(request) -> bool:
    return request.path_info.startswith(API_PREFIX)


def service_unavailable(request, service: str) -> HttpResponse:
    headers = {"Retry-After": str(outages.retry_after_seconds())}
    if is_api(request):
        return JsonResponse(unavailable_body(service), status=503, headers=headers)
    return HttpResponse(f"Service temporarily unavailable ({service}); retry later.\n",
                        status=503, content_type="text/plain; charset=utf-8", headers=headers)


class ApiErrorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self._refuse(request)
        if response is not None:
            return response
        response = self.get_response(request)
        exc = getattr(request, _EXCEPTION_ATTR, None)
        if exc is not None and response.status_code >= 500:
            service = outages.unavailable_service(exc)
            if service is not None:
                logger.warning("answering 503 for %s: %s unavailable (%s)", request.path,
                               service, exc.__class__.__name__)
                return service_unavailable(request, service)
        if is_api(request) and response.status_code >= 400 and not _is_json(response):
            return _as_envelope(response, exc)
        return response

    # --- requests refused before any view runs ----------------------------------------------
    def _refuse(self, request) -> HttpResponse | None:
        if len(request.get_full_path()) > settings.MAX_URL_LENGTH:
            return _refusal(request, 414, ErrorCode.URI_TOO_LONG,
                            f"The URL is longer than {settings.MAX_URL_LENGTH} characters.")
        if is_api(request) and _declared_length(request) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            return _refusal(request, 413, ErrorCode.PAYLOAD_TOO_LARGE,
                            too_large_body()["error"]["message"], {"max_bytes": limit})
        try:
            details = _unstorable_parts(request)
        except (SuspiciousOperation, BadRequest) as exc:
            return _refusal(request, 400, ErrorCode.BAD_REQUEST, str(exc) or "Bad request.")
        if details:
            return _refusal(request, 400, ErrorCode.VALIDATION_ERROR, "The request is invalid.",
                            details)
        return None


def _declared_length(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _unstorable_parts(request) -> dict:
    details = {}
    if hostile.unstorable(request.path_info):
        details["path"] = [hostile.MESSAGE]
    for key, values in request.GET.lists():
        if hostile.unstorable(key) or any(hostile.unstorable(v) for v in values):
            details[f"query.{hostile.printable(key)}"] = [hostile.MESSAGE]
    for name, value in request.META.items():
        if name.startswith("HTTP_") and isinstance(value, str) and hostile.unstorable(value):
            details[f"header.{name[5:].replace('_', '-').title()}"] = [hostile.MESSAGE]
    return details


def _refusal(request, status: int, code: ErrorCode, message: str,
             details: dict | None = None) -> HttpResponse:
    if is_api(request):
        return JsonResponse(envelope(code, message, details), status=status)
    return HttpResponse(f"{message}\n", status=status, content_type="text/plain; charset=utf-8")


def _is_json(response) -> bool:
    return response.get("Content-Type", "").startswith("application/json")


def _as_envelope(response, exc) -> JsonResponse:
    status = response.status_code
    code, message = _STATUS_CODES.get(status) or (
        (ErrorCode.INTERNAL_ERROR, "An unexpected error occurred; it has been logged.")
        if status >= 500 else (ErrorCode.BAD_REQUEST, "The request cannot be served."))
    details = {}
    if status >= 500 and settings.DEBUG and exc is not None:
        details["exception"] = exc.__class__.__name__  # a hint for developers, no traceback
    replaced = JsonResponse(envelope(code, message, details), status=status)
    for header in _KEPT_HEADERS:
        if header in response:
            replaced[header] = response[header]
    return replaced
