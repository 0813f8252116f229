"""The saga engine: runs one step message, records it, and moves the saga on.

A step message is (saga_id, step index, direction). Handling it:
1. claim (short transaction, saga row locked): drop the message if the saga no longer
   expects this step (a duplicate or stale delivery); count the attempt in the step log
   and push the deadline forward.
2. run (one transaction, saga row locked with SELECT … FOR UPDATE for its whole length):
   call the step function, then record success in the step log and advance the saga, so
   the step's database effects and the saga's progress commit together or not at all. A
   second delivery of the same message blocks on the lock, then sees the saga has moved
   on and does nothing. A worker killed here rolls everything back (PostgreSQL drops the
   dead connection's transaction and lock); the sweeper resumes the saga after its deadline.
3. the next step is enqueued with transaction.on_commit, never inside the transaction.

Failures: transient errors (TransientError / ServiceUnavailable, ConcurrencyError,
database and Redis connection errors, anything unexpected) are retried with exponential
backoff up to settings.SAGA_MAX_ATTEMPTS; business refusals (DomainError) are not retried.
A refused or exhausted forward step starts the compensations in reverse order; a
compensation that is refused or exhausted moves the saga to FAILED for staff to repair."""

import json
import logging
import time
import traceback
import uuid
from datetime import timedelta

import redis
from celery import current_app
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, transaction
from django.utils import timezone

from commerce.core import context, metrics
from commerce.core.errors import ConcurrencyError, DomainError, ServiceUnavailable
from commerce.eventstore import store
from commerce.eventstore.models import Event
from commerce.eventstore.types import NewEvent
from sagas.definitions import AWAIT_APPROVAL, END_SAGA, SagaContext, SagaDefinition, get_definition
from sagas.errors import StepPending
from sagas.models import Direction, SagaInstance, SagaStatus, SagaStep, StepStatus

logger = logging.getLogger(__name__)

EAGER_MAX_WAITS = 50
SAGA_AGGREGATE = "Saga"
TRANSIENT = (ServiceUnavailable, ConcurrencyError, DatabaseError, redis.RedisError)


# --- scheduling -------------------------------------------------------------------------
def enqueue(saga: SagaInstance, *, countdown: float = 0) -> None:
    """Send the message for the saga's current step once the caller's transaction commits;
    the deadline lets the sweeper resend it if the message is lost."""
    saga.deadline = timezone.now() + timedelta(
        seconds=countdown + settings.SAGA_STEP_DEADLINE_SECONDS)
    args = [str(saga.id), saga.current_step, saga.direction]

    def send():
        from sagas.tasks import run_step
        run_step.apply_async(args=args, countdown=countdown or None)

    transaction.on_commit(send)


def backoff(attempt: int) -> float:
    return min(settings.SAGA_RETRY_BACKOFF_SECONDS * 2 ** max(attempt - 1, 0),
               settings.SAGA_RETRY_BACKOFF_MAX_SECONDS)


def lock_saga(saga_id) -> SagaInstance | None:
    return SagaInstance.objects.select_for_update().filter(pk=saga_id).first()


# --- running a step -----------------------------------------------------------------------
def run_step(saga_id: str, index: int, direction: str) -> str:
    """Handle one step message; returns what happened (for logs and tests)."""
    saga_id = uuid.UUID(str(saga_id))
    with transaction.atomic():
        saga = lock_saga(saga_id)
        if saga is None or not _expects(saga, index, direction):
            return "stale"
        definition = get_definition(saga.saga_type)
        step = definition.steps[index]
        log, _ = SagaStep.objects.get_or_create(
            saga=saga, step=step.name, action=direction,
            defaults={"status": StepStatus.RUNNING})
        log.attempts += 1
        log.status = StepStatus.RUNNING
        log.started_at = timezone.now()
        log.save(update_fields=["attempts", "status", "started_at"])
        saga.attempts = log.attempts
        saga.deadline = timezone.now() + timedelta(seconds=settings.SAGA_STEP_DEADLINE_SECONDS)
        saga.save(update_fields=["attempts", "deadline", "updated_at"])

    fn = step.action if direction == Direction.FORWARD else step.compensation
    started = time.monotonic()
    try:
        with transaction.atomic():
            saga = lock_saga(saga_id)
            if saga is None or not _expects(saga, index, direction):
                return "stale"
            ctx = SagaContext(saga_id=str(saga.id), saga_type=saga.saga_type,
                              correlation_id=str(saga.correlation_id), data=saga.saga_data)
            with context.bind(correlation_id=saga.saga_data.get("trace_id"),
                              actor=f"saga:{saga.saga_type}"):
                outcome = fn(ctx) if fn is not None else None
            elapsed = time.monotonic() - started
            if outcome is AWAIT_APPROVAL:
                _await_approval(saga, step.name, ctx)
                return "awaiting_approval"
            ended = outcome is END_SAGA
            if ended:
                ctx.updates["ended_at_step"] = step.name
            elif isinstance(outcome, dict):
                ctx.updates.update(outcome)
            saga.saga_data = {**saga.saga_data, **_jsonable(ctx.updates)}
            SagaStep.objects.filter(saga=saga, step=step.name, action=direction).update(
                status=StepStatus.SUCCEEDED, finished_at=timezone.now(),
                duration_ms=int(elapsed * 1000), last_error="",
                result=_jsonable(ctx.updates))
            if ended:
                _finish(saga, SagaStatus.COMPLETED, timezone.now())
                saga.save()
            else:
                _advance(saga, definition, index)
        metrics.SAGA_STEP_SECONDS.labels(saga_type=saga.saga_type, step=step.name).observe(
            elapsed)
        if direction == Direction.COMPENSATE:
            metrics.SAGA_COMPENSATIONS.labels(saga_type=saga.saga_type, step=step.name).inc()
        return "succeeded"
    except StepPending as exc:
        _reschedule(saga_id, index, direction, exc.reason, exc.countdown)
        return "pending"
    except DomainError as exc:
        if isinstance(exc, TRANSIENT):
            return _on_transient(saga_id, index, direction, exc)
        return _on_refusal(saga_id, index, direction, exc)
    except Exception as exc:  # noqa: BLE001 - unknown errors are retried, then escalated
        logger.exception("saga step crashed", extra={"saga_id": str(saga_id)})
        return _on_transient(saga_id, index, direction, exc)


def _expects(saga: SagaInstance, index: int, direction: str) -> bool:
    if saga.current_step != index:
        return False
    if direction == Direction.FORWARD:
        return saga.status == SagaStatus.RUNNING
    return saga.status == SagaStatus.COMPENSATING


def _advance(saga: SagaInstance, definition: SagaDefinition, index: int) -> None:
    now = timezone.now()
    saga.attempts = 0
    saga.last_error = ""
    if saga.status == SagaStatus.RUNNING:
        if index + 1 < len(definition.steps):
            saga.current_step = index + 1
            enqueue(saga)
        else:
            _finish(saga, SagaStatus.COMPLETED, now)
    else:
        _compensate_from(saga, definition, index - 1, now=now, save=False)
    saga.save()


def _compensate_from(saga, definition, index, *, now=None, save=True) -> None:
    """Run compensations from step `index` down to 0, skipping steps without one."""
    while index >= 0 and definition.steps[index].compensation is None:
        index -= 1
    saga.attempts = 0
    if index < 0:
        _finish(saga, SagaStatus.COMPENSATED, now or timezone.now())
    else:
        saga.status = SagaStatus.COMPENSATING
        saga.current_step = index
        enqueue(saga)
    if save:
        saga.save()


def _finish(saga: SagaInstance, status: str, now) -> None:
    saga.status = status
    saga.deadline = None
    saga.finished_at = now
    saga_type, saga_id, error = saga.saga_type, str(saga.id), saga.last_error
    if status == SagaStatus.FAILED:
        step = get_definition(saga_type).steps[saga.current_step].name
        record_saga_event(saga, "SagaFailed", {"step": step, "direction": saga.direction,
                                               "error": error})

    def report():
        metrics.SAGA_OUTCOMES.labels(saga_type=saga_type, status=status).inc()
        log = logger.error if status == SagaStatus.FAILED else logger.info
        log("saga %s", status, extra={"data": {"saga_id": saga_id, "saga_type": saga_type,
                                               "status": status, "last_error": error}})

    transaction.on_commit(report)


def _await_approval(saga: SagaInstance, step_name: str, ctx: SagaContext) -> None:
    saga.saga_data = {**saga.saga_data, **_jsonable(ctx.updates)}
    saga.status = SagaStatus.AWAITING_APPROVAL
    saga.deadline = None
    saga.save()
    record_saga_event(saga, "SagaAwaitingApproval", {
        "step": step_name, "reason": "; ".join(saga.saga_data.get("approval_reasons") or []),
        "amount": saga.saga_data.get("refund_amount")})
    SagaStep.objects.filter(saga=saga, step=step_name, action=Direction.FORWARD).update(
        status=StepStatus.AWAITING_APPROVAL, finished_at=timezone.now())


def record_saga_event(saga: SagaInstance, event_type: str, data: dict) -> None:
    """Facts about a saga that people and other services act on (SagaFailed: staff must
    repair; SagaAwaitingApproval: staff must decide) go to the event store on the saga's own
    stream, so they reach the outbox and the `commerce:events` stream like any event.
    Called under the saga row's lock, which serialises the stream's versions."""
    version = Event.objects.filter(aggregate_id=saga.id).count()
    store.append(aggregate_id=saga.id, aggregate_type=SAGA_AGGREGATE, expected_version=version,
                 events=[NewEvent(event_type, {
                     "saga_id": str(saga.id), "saga_type": saga.saga_type,
                     "order_id": str(saga.correlation_id), **data})])


def _record_error(saga_id, index, direction, exc, *, status) -> tuple | None:
    saga = lock_saga(saga_id)
    if saga is None or not _expects(saga, index, direction):
        return None
    step = get_definition(saga.saga_type).steps[index]
    message = _describe(exc)
    log = SagaStep.objects.get(saga=saga, step=step.name, action=direction)
    log.status = status
    log.last_error = message
    log.finished_at = timezone.now()
    log.save(update_fields=["status", "last_error", "finished_at"])
    saga.last_error = f"{step.name}/{direction}: {message}"
    logger.warning("saga step %s", status, extra={"data": {
        "saga_id": str(saga.id), "saga_type": saga.saga_type, "step": step.name,
        "action": direction, "attempt": log.attempts, "error": message}})
    return saga, log


def _on_transient(saga_id, index, direction, exc) -> str:
    with transaction.atomic():
        recorded = _record_error(saga_id, index, direction, exc, status=StepStatus.RETRYING)
        if recorded is None:
            return "stale"
        saga, log = recorded
        if log.attempts < settings.SAGA_MAX_ATTEMPTS:
            enqueue(saga, countdown=backoff(log.attempts))
            saga.save()
            return "retrying"
        log.status = StepStatus.FAILED
        log.save(update_fields=["status"])
        definition = get_definition(saga.saga_type)
        if direction == Direction.FORWARD:
            # The outcome of the last attempt is unknown, so undo this step too.
            _fail_forward(saga, definition, index, exc, undo_this_step=True)
        else:
            _fail_saga(saga, direction)
        return "exhausted"


def _on_refusal(saga_id, index, direction, exc) -> str:
    with transaction.atomic():
        recorded = _record_error(saga_id, index, direction, exc, status=StepStatus.FAILED)
        if recorded is None:
            return "stale"
        saga, _ = recorded
        if direction == Direction.FORWARD:
            _fail_forward(saga, get_definition(saga.saga_type), index, exc, undo_this_step=False)
            return "compensating"
        _fail_saga(saga, direction)
        return "failed"


def _fail_forward(saga, definition, index, exc, *, undo_this_step: bool) -> None:
    saga.saga_data = {**saga.saga_data, "failure": {
        "step": definition.steps[index].name,
        "code": str(getattr(exc, "code", "step_failed")),
        "message": getattr(exc, "message", None) or str(exc) or type(exc).__name__,
        "details": _jsonable(getattr(exc, "details", {})),
    }}
    _compensate_from(saga, definition, index if undo_this_step else index - 1)


def _fail_saga(saga: SagaInstance, direction: str) -> None:
    saga.saga_data = {**saga.saga_data, "failed_direction": direction}
    _finish(saga, SagaStatus.FAILED, timezone.now())
    saga.save()


def _reschedule(saga_id, index, direction, reason, countdown) -> None:
    with transaction.atomic():
        saga = lock_saga(saga_id)
        if saga is None or not _expects(saga, index, direction):
            return
        step = get_definition(saga.saga_type).steps[index]
        SagaStep.objects.filter(saga=saga, step=step.name, action=direction).update(
            attempts=0, status=StepStatus.RETRYING, last_error=f"waiting: {reason}")
        saga.attempts = 0
        waits = saga.saga_data.get("waits", 0) + 1
        saga.saga_data = {**saga.saga_data, "waits": waits}
        if current_app.conf.task_always_eager and waits > EAGER_MAX_WAITS:
            # In-process tasks ignore the countdown and would spin: leave it to the sweeper.
            saga.deadline = timezone.now() + timedelta(seconds=countdown)
        else:
            enqueue(saga, countdown=countdown)
        saga.save()


def _describe(exc: BaseException) -> str:
    if isinstance(exc, DomainError):
        return f"{exc.code}: {exc.message}"
    text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return text[:2000]


def _jsonable(value):
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))
