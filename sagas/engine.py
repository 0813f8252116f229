"""The saga engine: runs claimed sagas step after step, and records every outcome.

The database is the record of what must happen next (ARCHITECTURE §4): a saga row that is
running or compensating and whose `deadline` has passed is due, and any worker may claim it
(sagas/claims.py). A claim is a lease: it sets `lease_id` and pushes the deadline to the end
of the lease, so nobody else claims the saga while it runs; a worker that dies leaves a
lease that simply expires, and the next sweep claims the saga again. Broker messages only
wake workers up sooner (sagas/wakeups.py); a lost, delayed or duplicated one changes nothing.

Running a claimed saga (`SagaRun.advance`): each step is one transaction that runs the
step's function, writes its log row and advances the saga with a conditional UPDATE on its
lease (a worker whose lease was taken over meanwhile rolls back and stops). Steps that need
no third party run back to back in the same worker execution, with no broker round trip. A
step that needs one yields an ExternalCall: its transaction commits, the call is made with
no transaction open (sagas/runner.py runs many such calls at once on a thread pool), and
the step resumes in a new transaction with the call's Outcome.

Failures: transient errors (ServiceUnavailable, ConcurrencyError, database and Redis errors,
anything unexpected) schedule a retry with exponential backoff by moving the deadline, up to
settings.SAGA_MAX_ATTEMPTS claims of the step; business refusals (DomainError) are not
retried. A refused or exhausted forward step starts the compensations in reverse order; a
compensation that is refused or exhausted moves the saga to FAILED (a SagaFailed event) for
staff to repair."""

import inspect
import logging
import time
from datetime import timedelta

import redis
from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models.functions import Now
from django.utils import timezone

from commerce.core import context, metrics
from commerce.core.errors import ConcurrencyError, DomainError, ServiceUnavailable
from commerce.core.external import ExternalCall, Outcome
from sagas.definitions import (
    AWAIT_APPROVAL,
    END_SAGA,
    Refused,
    SagaContext,
    SagaDefinition,
    get_definition,
)
from sagas.errors import StepPending
from sagas.models import Direction, SagaInstance, SagaStatus, StepStatus
from sagas.records import (
    StepLog,
    count_step,
    describe_error,
    jsonable,
    record_saga_event,
    write_step_logs,
)

logger = logging.getLogger(__name__)

TRANSIENT = (ServiceUnavailable, ConcurrencyError, DatabaseError, redis.RedisError)
RUNNABLE = (SagaStatus.RUNNING, SagaStatus.COMPENSATING)


class LeaseLost(Exception):  # noqa: N818 - a signal: another worker runs this saga now
    pass


def backoff(attempt: int) -> float:
    return min(settings.SAGA_RETRY_BACKOFF_SECONDS * 2 ** max(attempt - 1, 0),
               settings.SAGA_RETRY_BACKOFF_MAX_SECONDS)


def lease_seconds() -> float:
    return settings.SAGA_STEP_DEADLINE_SECONDS


class SagaRun:
    """One claimed saga, advanced by the runner until it needs an external call (returned
    to the runner, whose Outcome comes back in `outcome`) or stops for now."""

    def __init__(self, saga: SagaInstance):
        self.saga = saga
        self.definition: SagaDefinition = get_definition(saga.saga_type)
        self.steps = None       # the suspended step generator, while its call is made
        self.ctx: SagaContext | None = None
        self.outcome: Outcome | None = None
        self.started = 0.0
        self.started_at = None
        self.stopped = False
        self.result = "claimed"  # what happened last, for logs and tests
        self.writer = None       # a batch's writer: row writes deferred to one statement
        self.solo_step: int | None = None  # a step to run alone (its batch failed)
        self.wait_in_run = False  # set by the runner: a first StepPending waits in the run
        self.waiting = False

    @property
    def step(self):
        return self.definition.steps[self.saga.current_step]

    @property
    def direction(self) -> str:
        return self.saga.direction

    def batchable(self) -> bool:
        """Whether the next step can run in a batch with other sagas at the same step (the
        runner groups them: sagas/batch.py)."""
        return (self.steps is None and not self.stopped and self.saga.status == SagaStatus.RUNNING
                and (self.step.batch is not None or self.step.action is None)
                and self.solo_step != self.saga.current_step
                and self.saga.attempts <= settings.SAGA_MAX_ATTEMPTS)

    def advance(self) -> ExternalCall | None:
        """Run steps until one needs an external call (returned) or the saga stops here, or
        reaches a step it can run in a batch (returns None with `batchable()` true)."""
        self.waiting = False
        while not self.stopped and self.saga.status in RUNNABLE and not self.batchable():
            if self.steps is None and self.saga.attempts > settings.SAGA_MAX_ATTEMPTS:
                # Claimed again and again without finishing (a step that kills its worker):
                # its outcome is unknown, so it counts as exhausted.
                self._handle(RuntimeError("step did not finish after repeated claims"),
                             exhausted=True)
                continue
            try:
                call = self._step_transaction()
            except LeaseLost:
                self._stop("lease_lost")
            except StepPending as exc:
                self._close_steps()
                if self.wait_in_run:
                    # Another saga of this same run may be what it waits for: try once more
                    # when the run's other work is done, before giving the lease back.
                    self.wait_in_run, self.waiting = False, True
                    return None
                self._reschedule(exc)
            except Exception as exc:  # noqa: BLE001 - every failure is classified below
                self._close_steps()
                self._handle(exc)
            else:
                if call is not None:
                    return call
        return None

    # --- one step ------------------------------------------------------------------------
    def _step_transaction(self) -> ExternalCall | None:
        with transaction.atomic(), context.bind(
                correlation_id=self.saga.saga_data.get("trace_id"),
                actor=f"saga:{self.saga.saga_type}"):
            if self.steps is None:
                self.begin_step()
                fn = (self.step.action if self.direction == Direction.FORWARD
                      else self.step.compensation)
                value = fn(self.ctx) if fn is not None else None
                if inspect.isgenerator(value):
                    self.steps = value
                    value = self._resume(None)
            else:
                outcome, self.outcome = self.outcome, None
                value = self._resume(outcome)
            if isinstance(value, ExternalCall):
                return value  # commit what the step did so far; the runner makes the call
            self._complete(value)
        return None

    def begin_step(self) -> SagaContext:
        self.ctx = SagaContext(saga_id=str(self.saga.id), saga_type=self.saga.saga_type,
                               correlation_id=str(self.saga.correlation_id),
                               data=self.saga.saga_data)
        self.started, self.started_at = time.monotonic(), timezone.now()
        return self.ctx

    def finish_batch_step(self, value) -> None:
        """In a batch's transaction: what the batch step gave this saga. A DomainError is a
        refusal (the batch wrote nothing for it), another exception a transient failure."""
        if isinstance(value, Exception):
            self._fail_in_transaction(value)
        else:
            self._complete(value)

    def _resume(self, outcome: Outcome | None):
        try:
            value = self.steps.send(outcome)
        except StopIteration as stop:
            self.steps = None
            return stop.value
        except BaseException:
            self.steps = None
            raise
        if not isinstance(value, ExternalCall):
            raise TypeError(f"{self.step.name} yielded {value!r}, not an ExternalCall")
        return value

    def _close_steps(self) -> None:
        if self.steps is not None:
            self.steps.close()
            self.steps = None

    def _complete(self, value) -> None:
        """In the step's transaction: log it and move the saga on."""
        if value is AWAIT_APPROVAL:
            self._merge_updates()
            self._log(StepStatus.AWAITING_APPROVAL)
            self.saga.status = SagaStatus.AWAITING_APPROVAL
            self._save(deadline=None, release=True)
            record_saga_event(self.saga, "SagaAwaitingApproval", {
                "step": self.step.name,
                "reason": "; ".join(self.saga.saga_data.get("approval_reasons") or []),
                "amount": self.saga.saga_data.get("refund_amount")})
            self._stop("awaiting_approval")
            return
        if isinstance(value, Refused):  # recorded by the step: keep it, then compensate
            self._merge_updates()
            self._log(StepStatus.FAILED, error=value.error)
            self._refuse(value.error, undo_this_step=False)
            return
        ended = value is END_SAGA
        if ended:
            self.ctx.updates["ended_at_step"] = self.step.name
        elif isinstance(value, dict):
            self.ctx.updates.update(value)
        self._merge_updates()
        self._log(StepStatus.SUCCEEDED, result=self.ctx.updates)
        elapsed = time.monotonic() - self.started
        saga_type, step_name, direction = self.saga.saga_type, self.step.name, self.direction
        transaction.on_commit(lambda: count_step(saga_type, step_name, direction, elapsed),
                              robust=True)
        self.result = "succeeded"
        if ended:
            self._finish(SagaStatus.COMPLETED)
        elif self.direction == Direction.FORWARD:
            if self.saga.current_step + 1 < len(self.definition.steps):
                self._move_to(self.saga.current_step + 1)
            else:
                self._finish(SagaStatus.COMPLETED)
        else:
            self._compensate_from(self.saga.current_step - 1)

    def _merge_updates(self) -> None:
        if self.ctx is not None and self.ctx.updates:
            self.saga.saga_data = {**self.saga.saga_data, **jsonable(self.ctx.updates)}
            self.ctx.updates = {}

    # --- moving the saga -----------------------------------------------------------------
    def _move_to(self, index: int) -> None:
        """Next step, run now under the same lease (so it counts as its first claim)."""
        self.saga.current_step = index
        self.saga.attempts = 1
        self.saga.last_error = ""
        self._save(deadline=_in(lease_seconds()))

    def _compensate_from(self, index: int) -> None:
        while index >= 0 and self.definition.steps[index].compensation is None:
            index -= 1
        if index < 0:
            self._finish(SagaStatus.COMPENSATED)
            return
        self.saga.status = SagaStatus.COMPENSATING
        self._move_to(index)

    def _finish(self, status: str) -> None:
        direction = self.direction  # read before the status changes (it derives from it)
        self.saga.status = status
        self.saga.finished_at = timezone.now()
        if status == SagaStatus.FAILED:
            self.saga.saga_data = {**self.saga.saga_data, "failed_direction": direction}
        self._save(deadline=None, release=True)
        if status == SagaStatus.FAILED:
            record_saga_event(self.saga, "SagaFailed", {
                "step": self.step.name, "direction": direction,
                "error": self.saga.last_error})
        saga_type, saga_id, error = self.saga.saga_type, str(self.saga.id), self.saga.last_error

        def report():
            metrics.SAGA_OUTCOMES.labels(saga_type=saga_type, status=status).inc()
            log = logger.error if status == SagaStatus.FAILED else logger.debug
            log("saga %s", status, extra={"data": {"saga_id": saga_id, "saga_type": saga_type,
                                                   "status": status, "last_error": error}})

        transaction.on_commit(report, robust=True)
        self._stop(status)

    def _save(self, *, deadline, release: bool = False) -> None:
        """Write the saga row if this run still holds its lease (else LeaseLost: the
        caller's transaction rolls back everything the step did)."""
        lease = self.saga.lease_id
        if release:
            self.saga.lease_id = None
        self.saga.deadline = deadline
        if self.writer is not None:
            self.writer.save(self.saga, lease)
            return
        updated = SagaInstance.objects.filter(pk=self.saga.pk, lease_id=lease).update(
            status=self.saga.status, current_step=self.saga.current_step,
            saga_data=self.saga.saga_data, attempts=self.saga.attempts,
            last_error=self.saga.last_error, finished_at=self.saga.finished_at,
            lease_id=self.saga.lease_id, deadline=deadline, updated_at=Now())
        if updated != 1:
            self.saga.lease_id = lease
            raise LeaseLost(str(self.saga.pk))

    def _stop(self, result: str) -> None:
        self.stopped = True
        self.result = result

    # --- failures ------------------------------------------------------------------------
    def _handle(self, exc: Exception, *, exhausted: bool = False) -> None:
        refusal = isinstance(exc, DomainError) and not isinstance(exc, TRANSIENT)
        try:
            with transaction.atomic():
                self._fail_in_transaction(exc, exhausted=exhausted)
        except LeaseLost:
            self._stop("lease_lost")
        except Exception as record_error:  # noqa: BLE001 - e.g. the database is down
            logger.warning("saga step outcome not recorded; the lease will expire and the "
                           "saga be claimed again", extra={"data": {
                               "saga_id": str(self.saga.id), "error": describe_error(record_error),
                               "step_error": describe_error(exc)}})
            self._stop("unrecorded")
        if not refusal and not isinstance(exc, TRANSIENT):
            logger.error("saga step crashed", exc_info=exc,
                         extra={"data": {"saga_id": str(self.saga.id)}})

    def _fail_in_transaction(self, exc: Exception, *, exhausted: bool = False) -> None:
        if isinstance(exc, DomainError) and not isinstance(exc, TRANSIENT):
            self._log(StepStatus.FAILED, error=exc)
            self._refuse(exc, undo_this_step=False)
        elif exhausted or self.saga.attempts >= settings.SAGA_MAX_ATTEMPTS:
            self._log(StepStatus.FAILED, error=exc)
            self.result = "exhausted"
            # The last attempt's outcome is unknown, so undo this step too.
            self._refuse(exc, undo_this_step=True)
        else:
            self._log(StepStatus.RETRYING, error=exc)
            self._save(deadline=_in(backoff(self.saga.attempts)), release=True)
            self._stop("retrying")

    def _refuse(self, exc: Exception, *, undo_this_step: bool) -> None:
        self.saga.last_error = f"{self.step.name}/{self.direction}: {describe_error(exc)}"
        if self.direction == Direction.COMPENSATE:
            self._finish(SagaStatus.FAILED)
            return
        self.saga.saga_data = {**self.saga.saga_data, "failure": {
            "step": self.step.name,
            "code": str(getattr(exc, "code", "step_failed")),
            "message": getattr(exc, "message", None) or str(exc) or type(exc).__name__,
            "details": jsonable(getattr(exc, "details", {})),
        }}
        self.result = "compensating" if self.result != "exhausted" else self.result
        index = self.saga.current_step if undo_this_step else self.saga.current_step - 1
        self._compensate_from(index)

    def _reschedule(self, exc: StepPending) -> None:
        """The step cannot run yet: due again after its countdown, not counted as an
        attempt."""
        try:
            with transaction.atomic():
                self.saga.attempts = 0
                self.saga.saga_data = {**self.saga.saga_data,
                                       "waits": self.saga.saga_data.get("waits", 0) + 1}
                self._log(StepStatus.RETRYING, note=f"waiting: {exc.reason}")
                self._save(deadline=_in(exc.countdown), release=True)
        except LeaseLost:
            pass
        self._stop("pending")

    def _log(self, status: str, *, error: Exception | None = None, note: str = "",
             result: dict | None = None) -> None:
        now = timezone.now()
        started_at = self.started_at or now
        row = StepLog(
            saga_id=self.saga.pk, step=self.step.name, action=self.direction, status=status,
            attempts=max(self.saga.attempts, 1), started_at=started_at,
            finished_at=None if status == StepStatus.RETRYING and note else now,
            duration_ms=int((now - started_at).total_seconds() * 1000),
            last_error=note or (describe_error(error) if error is not None else ""),
            result=result or {},  # encoded once, as it is written
        )
        if self.writer is not None:
            self.writer.log(row)
        else:
            write_step_logs([row])


def _in(seconds: float):
    return timezone.now() + timedelta(seconds=seconds)
