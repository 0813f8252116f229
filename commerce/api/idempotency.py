"""The HTTP side of Idempotency-Key: views call `idempotent_response` around their work."""

from collections.abc import Callable
from typing import Any

from rest_framework.response import Response

from commerce.core.idempotency import run_idempotent

HEADER = "Idempotency-Key"


def idempotent_response(
    request, *, scope: str, owner: str, payload: Any, work: Callable[[], tuple[int, Any]],
    database_only: bool = False,
) -> Response:
    """Without the header, just run `work`. With it, run at most once per key and replay
    the stored response (marked `Idempotent-Replayed: true`) for retries. `database_only`:
    see commerce.core.idempotency."""
    key = request.headers.get(HEADER)
    if key is None:
        status, body = work()
        return Response(body, status=status)
    result = run_idempotent(scope=scope, owner=owner, key=key, payload=payload, work=work,
                            database_only=database_only)
    response = Response(result.body, status=result.status)
    if result.replayed:
        response["Idempotent-Replayed"] = "true"
    return response
