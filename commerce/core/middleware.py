import re
import uuid

from commerce.core import context

_VALID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class CorrelationIdMiddleware:
    """Takes X-Correlation-ID from the caller (or makes one), binds it for the request and
    echoes it in the response."""

    header = "HTTP_X_CORRELATION_ID"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.META.get(self.header, "")
        cid = incoming if _VALID.match(incoming) else str(uuid.uuid4())
        with context.bind(correlation_id=cid), context.bind_request(request):
            response = self.get_response(request)
        response["X-Correlation-ID"] = cid
        return response
