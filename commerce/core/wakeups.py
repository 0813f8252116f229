"""Waking a worker after commit, without ever failing the request that committed.

The database says what must be done (outbox rows, due sagas) and beat runs the task that
does it every few seconds anyway; a wake-up only makes a worker start sooner. At most one
wake-up per task is queued at a time (a Redis flag that the task clears when it starts), so
a burst of commits sends one message, not one per commit. A broker or Redis outage makes
`request` log, count and return False: the work waits for the next beat, nothing is lost."""

import contextlib
import logging

from commerce.core import metrics
from commerce.core.redis import redis_client

logger = logging.getLogger(__name__)
FLAG_TTL_SECONDS = 30


def request(task, *, flag: str, force: bool = False) -> bool:
    """Queue `task` unless a request is already queued (or `force`). Never raises."""
    try:
        if force or redis_client().set(flag, "1", nx=True, ex=FLAG_TTL_SECONDS):
            task.apply_async(retry=False)
            return True
    except Exception as exc:  # noqa: BLE001 - a failed wake-up must never fail the caller
        metrics.WAKEUP_FAILURES.labels(task=task.name).inc()
        logger.warning("could not wake a worker; beat will run %s", task.name,
                       extra={"data": {"task": task.name, "error": str(exc)[:500]}})
    return False


def clear(flag: str) -> None:
    """Called by the task as it starts: commits from now on request another run."""
    with contextlib.suppress(Exception):
        redis_client().delete(flag)
