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
        # Django logs 4xx/5xx after the middleware chain returned: it finds the id here.
        request.correlation_id = cid
        with context.bind(correlation_id=cid), context.bind_request(request):
            response = self.get_response(request)
        response["X-Correlation-ID"] = cid
        return response


class ProbeMiddleware:
    """Serves /healthz, /readyz and /metrics before anything validates the Host header.

    Kubelet probes and Prometheus scrapes address the pod by IP (`Host: 10.1.2.3:8000`),
    which ALLOWED_HOSTS rightly refuses for the application. These three answer whatever
    the Host, without opening ALLOWED_HOSTS; every other path still goes through
    CommonMiddleware's host check. The Ingress never routes /metrics (deploy/k8s)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        view = _probe_views().get(request.path_info)
        if view is None or request.method not in ("GET", "HEAD"):
            return self.get_response(request)
        return view(request)


def _probe_views() -> dict:
    from django_prometheus.exports import ExportToDjangoView

    from commerce.core import health

    return {"/healthz": health.healthz, "/readyz": health.readyz, "/metrics": ExportToDjangoView}
