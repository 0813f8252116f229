"""Who and what caused the current unit of work: a correlation id that follows a request
into its Celery tasks, the event that caused it, and the acting user. Stored in
contextvars so threads and tasks each see their own."""

import uuid
from contextlib import contextmanager
from contextvars import ContextVar

_correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)
_causation_id: ContextVar[str | None] = ContextVar("causation_id", default=None)
_actor: ContextVar[str | None] = ContextVar("actor", default=None)
# The HTTP request being served: its user is the actor unless one is bound explicitly.
_request: ContextVar[object | None] = ContextVar("request", default=None)


def correlation_id() -> str:
    """The bound correlation id, or a fresh one for work that runs outside any request or
    task (nothing is stored: binding is `bind()`'s job, so no value leaks across work)."""
    return _correlation_id.get() or str(uuid.uuid4())


def current() -> dict:
    return {
        "correlation_id": _correlation_id.get(),
        "causation_id": _causation_id.get(),
        "actor": _actor.get() or _request_actor(),
    }


def _request_actor() -> str | None:
    # Read lazily, at the time of use: DRF authenticates (JWT) inside the view and then
    # sets the user on the underlying HttpRequest; the admin's user comes from the session.
    request = _request.get()
    return actor_label(getattr(request, "user", None)) if request is not None else None


@contextmanager
def bind_request(request):
    """Make the request's user the actor of everything done while serving it (events,
    tasks), so no view has to remember to."""
    token = _request.set(request)
    try:
        yield
    finally:
        _request.reset(token)


@contextmanager
def bind(*, correlation_id: str | None = None, causation_id: str | None = None,
         actor: str | None = None):
    """Set context for a block; values left as None keep what is already bound."""
    tokens = []
    for var, value in ((_correlation_id, correlation_id), (_causation_id, causation_id),
                       (_actor, actor)):
        if value is not None:
            tokens.append((var, var.set(str(value))))
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


def actor_label(user) -> str | None:
    """How a user is recorded in event metadata: `user:<uuid>` (or None for anonymous)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return f"user:{user.pk}"
