"""Waking a worker after commit, without ever failing the request that committed.

The database says what must be done (outbox rows, due sagas) and beat runs the task that
does it every few seconds anyway; a wake-up only makes a worker start sooner. At most one
wake-up per task is queued at a time (a Redis flag that the task clears when it starts), so
a burst of commits sends one message, not one per commit. A broker or Redis outage makes
`request` log, count and return False: the work waits for the next beat, nothing is lost.

`request_after_commit` is the form commands use: the wake-ups a transaction asks for are sent
after its commit, those of one block together in one Redis round trip (a placement asks for
two: the outbox relay and the saga runner)."""

import contextlib
import logging

from django.db import transaction

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
        _failed(task, exc)
    return False


def request_after_commit(task, *, flag: str) -> None:
    """`request(task, flag=flag)` once the current transaction commits (at once outside
    one); nothing if it rolls back as a whole. The wake-ups asked for in one block, and in
    the blocks it encloses, share a round trip: sibling savepoints each send their own, and
    a wake-up asked for inside a savepoint that rolls back may still be sent (harmless: a
    wake-up only makes a worker look sooner)."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        request(task, flag=flag)
        return
    pending = getattr(connection, "_pending_wakeups", None)
    # Joined: a batch registered in this block or one enclosing it (its savepoints all
    # still open), whose hook is still to run. Django drops the hooks of a rolled-back
    # block; a batch of a block already closed (a test's earlier transaction, kept in the
    # test's own outer one) is left alone.
    if pending is None or pending.sent or not pending.savepoints <= set(
            connection.savepoint_ids) or not any(
            getattr(hook[1], "__self__", None) is pending
            for hook in connection.run_on_commit):
        pending = connection._pending_wakeups = _PendingWakeups(set(connection.savepoint_ids))
        # A bound method: Django's robust hook logs a failure by the callable's __qualname__
        # (an instance has none, and the logging itself would raise).
        transaction.on_commit(pending.send, robust=True)
    pending.tasks.setdefault(flag, task)


class _PendingWakeups:
    """One transaction's wake-ups: set every flag in one pipeline, then queue the task of
    each flag that was not set yet."""

    def __init__(self, savepoints: set):
        self.savepoints = savepoints  # open where the batch began
        self.tasks: dict = {}  # flag → task
        self.sent = False

    def send(self) -> None:
        self.sent = True
        try:
            pipe = redis_client().pipeline(transaction=False)
            for flag in self.tasks:
                pipe.set(flag, "1", nx=True, ex=FLAG_TTL_SECONDS)
            fresh = pipe.execute()
        except Exception as exc:  # noqa: BLE001 - a failed wake-up must never fail the caller
            for task in self.tasks.values():
                _failed(task, exc)
            return
        for task, was_set in zip(self.tasks.values(), fresh, strict=True):
            if was_set:
                try:
                    task.apply_async(retry=False)
                except Exception as exc:  # noqa: BLE001 - as above
                    _failed(task, exc)


def _failed(task, exc: Exception) -> None:
    metrics.WAKEUP_FAILURES.labels(task=task.name).inc()
    logger.warning("could not wake a worker; beat will run %s", task.name,
                   extra={"data": {"task": task.name, "error": str(exc)[:500]}})


def clear(flag: str) -> None:
    """Called by the task as it starts: commits from now on request another run."""
    with contextlib.suppress(Exception):
        redis_client().delete(flag)
