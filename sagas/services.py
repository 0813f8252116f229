"""Saga commands: start (from policies), staff repairs (retry, force compensation) and
approval decisions. Each changes the saga row under its lock and makes it due; running it
is the runner's job (sagas/runner.py)."""

import json
from uuid import UUID

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from commerce.core import context
from commerce.core.bulk import insert_rows
from commerce.core.errors import NotFound
from sagas import runner
from sagas.definitions import get_definition
from sagas.errors import InvalidSagaState
from sagas.models import Direction, SagaInstance, SagaStatus, SagaStep, StepStatus


def saga_start(*, saga_type: str, correlation_id: UUID, data: dict) -> SagaInstance:
    """Create the saga row in the caller's transaction, due at once; after commit a worker
    is woken to run it (if that wake-up is lost, the next beat sweep runs it)."""
    get_definition(saga_type)  # fail fast on an unknown type
    with transaction.atomic(savepoint=False):  # the caller's transaction; nothing to undo alone
        now = timezone.now()
        saga = SagaInstance(
            saga_type=saga_type, correlation_id=correlation_id, status=SagaStatus.RUNNING,
            deadline=now, created_at=now, updated_at=now,
            saga_data=json.loads(json.dumps(
                {**data, "trace_id": context.correlation_id()}, cls=DjangoJSONEncoder)),
        )
        # Written without Model.save's machinery: every placement starts one.
        insert_rows(SagaInstance, [saga], _SAGA_FIELDS)
        runner.request_run_after_commit()
    return saga


_SAGA_FIELDS = [f.name for f in SagaInstance._meta.concrete_fields]


def saga_retry(*, saga_id: UUID) -> SagaInstance:
    """Staff repair: run the saga's current step again from a clean attempt count (after
    the fault that made it FAILED is gone). A FAILED saga resumes in the direction it
    failed in; a running one just gets its current step re-sent (harmless: idempotent)."""
    with transaction.atomic():
        saga = _lock(saga_id)
        if saga.status not in (SagaStatus.FAILED, SagaStatus.RUNNING, SagaStatus.COMPENSATING):
            raise InvalidSagaState(details={"status": saga.status})
        if saga.status == SagaStatus.FAILED:
            saga.status = (SagaStatus.COMPENSATING if saga.direction == Direction.COMPENSATE
                           else SagaStatus.RUNNING)
            saga.finished_at = None
            saga.saga_data = {k: v for k, v in saga.saga_data.items() if k != "failed_direction"}
        _reset_step(saga)
        _make_due(saga)
    return saga


def saga_resume_forward(*, saga_id: UUID) -> SagaInstance:
    """Staff repair for a FAILED saga that cannot be undone (e.g. a cancellation whose
    refund went through): once the fault is fixed, run the forward step that was refused
    again and carry on from there."""
    with transaction.atomic():
        saga = _lock(saga_id)
        failure = saga.saga_data.get("failure") or {}
        definition = get_definition(saga.saga_type)
        names = [s.name for s in definition.steps]
        if saga.status != SagaStatus.FAILED or failure.get("step") not in names:
            raise InvalidSagaState("Only a failed saga with a refused step can resume.",
                                   details={"status": saga.status})
        saga.status = SagaStatus.RUNNING
        saga.current_step = names.index(failure["step"])
        saga.finished_at = None
        saga.saga_data = {k: v for k, v in saga.saga_data.items()
                          if k not in ("failed_direction", "failure")}
        _reset_step(saga)
        _make_due(saga)
    return saga


def saga_force_compensation(*, saga_id: UUID, reason: str) -> SagaInstance:
    """Staff decision: stop going forward and undo what was done, starting with the
    current step (its outcome may be unknown; compensations tolerate nothing to undo)."""
    with transaction.atomic():
        saga = _lock(saga_id)
        if saga.status not in (SagaStatus.RUNNING, SagaStatus.AWAITING_APPROVAL,
                               SagaStatus.FAILED):
            raise InvalidSagaState(details={"status": saga.status})
        definition = get_definition(saga.saga_type)
        start = saga.current_step
        if saga.status == SagaStatus.FAILED and saga.direction == Direction.COMPENSATE:
            _reset_step(saga)  # already compensating: resume from the failed compensation
        saga.finished_at = None
        saga.saga_data = {
            **{k: v for k, v in saga.saga_data.items() if k != "failed_direction"},
            "failure": saga.saga_data.get("failure") or {
                "step": definition.steps[start].name, "code": "forced_compensation",
                "message": reason or "Compensation forced by staff.", "details": {},
            },
        }
        _compensate_from(saga, definition, start)
    return saga


def saga_decide_approval(*, saga_id: UUID, approve: bool, reason: str = "",
                         actor: str | None = None) -> SagaInstance:
    """Staff decision on a saga waiting in AWAITING_APPROVAL: approve resumes the waiting
    step; reject runs its compensations (for a cancellation: the order stays as it was)."""
    with transaction.atomic():
        saga = _lock(saga_id)
        if saga.status != SagaStatus.AWAITING_APPROVAL:
            raise InvalidSagaState("The saga is not awaiting approval.",
                                   details={"status": saga.status})
        decision = {"approved": bool(approve), "reason": reason, "by": actor or
                    context.current()["actor"], "at": timezone.now().isoformat()}
        saga.saga_data = {**saga.saga_data, "approval": decision}
        if approve:
            saga.status = SagaStatus.RUNNING
            _reset_step(saga)
            _make_due(saga)
        else:
            definition = get_definition(saga.saga_type)
            saga.saga_data["failure"] = {
                "step": definition.steps[saga.current_step].name, "code": "approval_rejected",
                "message": reason or "Rejected by staff.", "details": {},
            }
            _compensate_from(saga, definition, saga.current_step)
    return saga


def _lock(saga_id) -> SagaInstance:
    saga = SagaInstance.objects.select_for_update().filter(pk=saga_id).first()
    if saga is None:
        raise NotFound("Saga not found.", details={"saga_id": str(saga_id)})
    return saga


def _make_due(saga: SagaInstance) -> None:
    """Hand the saga to whichever worker claims it next (a worker still holding an old
    lease on it loses it: its next write is refused and rolled back)."""
    saga.deadline = timezone.now()
    saga.lease_id = None
    saga.save()
    runner.request_run_after_commit()


def _compensate_from(saga: SagaInstance, definition, index: int) -> None:
    """Start the compensations from step `index` down (staff decisions)."""
    while index >= 0 and definition.steps[index].compensation is None:
        index -= 1
    saga.attempts = 0
    if index < 0:
        saga.status = SagaStatus.COMPENSATED
        saga.finished_at = timezone.now()
        saga.deadline = saga.lease_id = None
        saga.save()
        return
    saga.status = SagaStatus.COMPENSATING
    saga.current_step = index
    _make_due(saga)


def _reset_step(saga: SagaInstance) -> None:
    saga.attempts = 0
    saga.last_error = ""
    step = get_definition(saga.saga_type).steps[saga.current_step]
    SagaStep.objects.filter(saga=saga, step=step.name, action=saga.direction).exclude(
        status=StepStatus.SUCCEEDED).update(attempts=0)


def cancellation_decide(*, order_id: UUID, approve: bool, reason: str = "",
                        actor: str | None = None) -> SagaInstance:
    """Approve or reject the order's cancellation that waits for approval."""
    from sagas.flows.cancellation import SAGA_TYPE

    saga = (SagaInstance.objects.filter(correlation_id=order_id, saga_type=SAGA_TYPE)
            .order_by("-created_at").first())
    if saga is None:
        raise NotFound("No cancellation is pending for this order.",
                       details={"order_id": str(order_id)})
    return saga_decide_approval(saga_id=saga.id, approve=approve, reason=reason, actor=actor)
