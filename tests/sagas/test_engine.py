"""The saga engine with a scripted toy saga (eager Celery; on-commit callbacks executed)."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from commerce.eventstore.models import Event
from sagas import engine, runner, services
from sagas.errors import InvalidSagaState
from sagas.models import SagaInstance, SagaStatus, SagaStep, StepStatus

pytestmark = pytest.mark.django_db


def start(capture, **data):
    with capture(execute=True):
        saga = services.saga_start(saga_type="toy", correlation_id=uuid.uuid4(), data=data)
    saga.refresh_from_db()
    return saga


def steps(saga):
    return [(s.step, s.action, s.status, s.attempts)
            for s in SagaStep.objects.filter(saga=saga).order_by("id")]


def saga_events(saga):
    return [(e.aggregate_type, e.event_type, e.event_data)
            for e in Event.objects.filter(aggregate_id=saga.id).order_by("version")]


def test_all_steps_succeed_in_order(script, django_capture_on_commit_callbacks):
    # given / when
    saga = start(django_capture_on_commit_callbacks, x=1)
    # then
    assert script.calls == ["a", "b", "c", "d"]
    assert saga.status == SagaStatus.COMPLETED
    assert saga.deadline is None and saga.finished_at is not None
    assert saga.saga_data["x"] == 1 and saga.saga_data["d"] == "done"
    assert steps(saga) == [(n, "forward", "succeeded", 1) for n in "abcd"]


def test_business_refusal_compensates_in_reverse_without_retry(
        script, django_capture_on_commit_callbacks, settings):
    # given step d refuses
    script.faults["d"] = ["refuse"]
    # when
    saga = start(django_capture_on_commit_callbacks)
    # then d ran once, then c's and a's compensations (b has none), newest first
    assert script.calls == ["a", "b", "c", "d", "undo_c", "undo_a"]
    assert saga.status == SagaStatus.COMPENSATED
    assert saga.saga_data["failure"]["step"] == "d"
    assert saga.saga_data["failure"]["code"] == "conflict"
    assert ("d", "forward", "failed", 1) in steps(saga)
    assert not SagaStep.objects.filter(saga=saga, step="undo_d").exists()


def test_transient_errors_are_retried_with_backoff(script, django_capture_on_commit_callbacks):
    # given b times out twice
    script.faults["b"] = ["transient", "transient"]
    # when
    saga = start(django_capture_on_commit_callbacks)
    # then
    assert saga.status == SagaStatus.COMPLETED
    assert script.calls == ["a", "b", "b", "b", "c", "d"]
    assert ("b", "forward", "succeeded", 3) in steps(saga)


def test_backoff_grows_exponentially_and_is_capped(settings):
    settings.SAGA_RETRY_BACKOFF_SECONDS = 1.0
    settings.SAGA_RETRY_BACKOFF_MAX_SECONDS = 10.0
    assert [engine.backoff(n) for n in (1, 2, 3, 4, 5)] == [1.0, 2.0, 4.0, 8.0, 10.0]


def test_exhausted_transient_step_is_undone_too(
        script, django_capture_on_commit_callbacks, settings):
    # given c keeps timing out (its outcome is unknown, so its compensation runs as well)
    settings.SAGA_MAX_ATTEMPTS = 3
    script.always["c"] = "transient"
    # when
    saga = start(django_capture_on_commit_callbacks)
    # then
    assert script.calls == ["a", "b", "c", "c", "c", "undo_c", "undo_a"]
    assert saga.status == SagaStatus.COMPENSATED
    assert ("c", "forward", "failed", 3) in steps(saga)


def test_compensation_failing_every_time_fails_the_saga_then_staff_retry_completes(
        script, django_capture_on_commit_callbacks, settings):
    # given d refuses and undo_c keeps failing
    settings.SAGA_MAX_ATTEMPTS = 3
    script.faults["d"] = ["refuse"]
    script.always["undo_c"] = "transient"
    # when
    saga = start(django_capture_on_commit_callbacks)
    # then the saga is FAILED and listed for staff with its error
    assert saga.status == SagaStatus.FAILED
    assert script.calls.count("undo_c") == 3 and "undo_a" not in script.calls
    assert "undo_c timed out" in saga.last_error
    assert ("c", "compensate", "failed", 3) in steps(saga)
    # and SagaFailed is on the saga's own stream, for people and other services to act on
    assert saga_events(saga) == [("Saga", "SagaFailed", {
        "saga_id": str(saga.id), "saga_type": "toy", "order_id": str(saga.correlation_id),
        "step": "c", "direction": "compensate", "error": saga.last_error})]
    # when the fault is gone and staff retry
    del script.always["undo_c"]
    with django_capture_on_commit_callbacks(execute=True):
        services.saga_retry(saga_id=saga.id)
    saga.refresh_from_db()
    # then the compensations finish
    assert saga.status == SagaStatus.COMPENSATED
    assert script.calls[-2:] == ["undo_c", "undo_a"]
    assert ("c", "compensate", "succeeded", 1) in steps(saga)


def test_refused_compensation_fails_immediately(script, django_capture_on_commit_callbacks):
    script.faults["d"] = ["refuse"]
    script.always["undo_c"] = "refuse"
    saga = start(django_capture_on_commit_callbacks)
    assert saga.status == SagaStatus.FAILED
    assert script.calls.count("undo_c") == 1
    assert saga.saga_data["failed_direction"] == "compensate"


def test_a_claimed_saga_is_not_claimed_again_while_its_lease_lasts(
        script, django_capture_on_commit_callbacks):
    # given a new saga (due at once) whose wake-up was not delivered
    with django_capture_on_commit_callbacks(execute=False):
        saga = services.saga_start(saga_type="toy", correlation_id=uuid.uuid4(), data={})
    # when two workers claim at once
    first, second = runner.claim_due(limit=10), runner.claim_due(limit=10)
    # then one gets it, with a lease until its deadline and the attempt counted
    assert [s.pk for s in first] == [saga.pk] and second == []
    assert first[0].lease_id is not None and first[0].attempts == 1
    assert first[0].deadline > timezone.now() + timedelta(seconds=30)
    assert script.calls == []


def test_a_duplicate_wake_up_runs_nothing_twice(script, django_capture_on_commit_callbacks):
    saga = start(django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        assert runner.run_due() == {}
    assert script.calls == ["a", "b", "c", "d"]
    assert steps(saga) == [(n, "forward", "succeeded", 1) for n in "abcd"]


def test_a_saga_whose_wake_up_was_lost_is_run_by_the_next_sweep(
        script, django_capture_on_commit_callbacks):
    # given a saga whose wake-up never reached a worker (broker down at commit)
    with django_capture_on_commit_callbacks(execute=False):
        saga = services.saga_start(saga_type="toy", correlation_id=uuid.uuid4(), data={})
    # when beat's sweep runs
    with django_capture_on_commit_callbacks(execute=True):
        result = runner.run_due()
    # then
    saga.refresh_from_db()
    assert result == {"completed": 1}
    assert saga.status == SagaStatus.COMPLETED and saga.lease_id is None
    assert script.calls == ["a", "b", "c", "d"]


def test_a_sweep_leaves_sagas_that_are_not_due_alone(script, django_capture_on_commit_callbacks,
                                                     settings):
    # given b failed transiently and its retry is due in a minute
    settings.SAGA_RETRY_BACKOFF_SECONDS = 60
    settings.SAGA_RETRY_BACKOFF_MAX_SECONDS = 60
    script.faults["b"] = ["transient"]
    saga = start(django_capture_on_commit_callbacks)
    assert (saga.status, saga.current_step, saga.lease_id) == (SagaStatus.RUNNING, 1, None)
    assert saga.deadline > timezone.now() + timedelta(seconds=50)
    # when a sweep runs now
    with django_capture_on_commit_callbacks(execute=True):
        assert runner.run_due() == {}
    # then b was not retried early
    assert script.calls == ["a", "b"]
    assert ("b", "forward", "retrying", 1) in steps(saga)


def test_a_worker_that_lost_its_lease_cannot_record_its_step(
        script, django_capture_on_commit_callbacks):
    # given a worker claimed the saga, and its lease was taken over (it was too slow)
    with django_capture_on_commit_callbacks(execute=False):
        saga = services.saga_start(saga_type="toy", correlation_id=uuid.uuid4(), data={})
    [claimed] = runner.claim_due(limit=1)
    SagaInstance.objects.filter(pk=saga.pk).update(lease_id=uuid.uuid4())
    # when it runs its step
    run = engine.SagaRun(claimed)
    assert run.advance() is None
    # then it stopped, and nothing of the step was kept
    assert run.result == "lease_lost"
    saga.refresh_from_db()
    assert (saga.current_step, saga.status) == (0, SagaStatus.RUNNING)
    assert steps(saga) == []


def test_a_step_claimed_too_often_without_finishing_counts_as_exhausted(
        script, django_capture_on_commit_callbacks, settings):
    # given a saga at step c whose workers kept dying (claimed, never finished)
    settings.SAGA_MAX_ATTEMPTS = 3
    with django_capture_on_commit_callbacks(execute=False):
        saga = services.saga_start(saga_type="toy", correlation_id=uuid.uuid4(), data={})
    SagaInstance.objects.filter(pk=saga.pk).update(current_step=2, attempts=3)
    # when it is claimed once more
    with django_capture_on_commit_callbacks(execute=True):
        runner.run_due()
    # then c is not run again but undone, with what came before it
    saga.refresh_from_db()
    assert script.calls == ["undo_c", "undo_a"]
    assert saga.status == SagaStatus.COMPENSATED
    assert ("c", "forward", "failed", 4) in steps(saga)


def test_approval_then_approve_resumes(script, django_capture_on_commit_callbacks):
    # given step b waits for approval
    script.faults["b"] = ["approval"]
    saga = start(django_capture_on_commit_callbacks)
    assert saga.status == SagaStatus.AWAITING_APPROVAL and saga.deadline is None
    assert ("b", "forward", StepStatus.AWAITING_APPROVAL, 1) in steps(saga)
    assert saga_events(saga) == [("Saga", "SagaAwaitingApproval", {
        "saga_id": str(saga.id), "saga_type": "toy", "order_id": str(saga.correlation_id),
        "step": "b", "reason": "", "amount": None})]
    # when approved
    with django_capture_on_commit_callbacks(execute=True):
        services.saga_decide_approval(saga_id=saga.id, approve=True, reason="ok")
    saga.refresh_from_db()
    # then
    assert saga.status == SagaStatus.COMPLETED
    assert saga.saga_data["approval"]["approved"] is True


def test_approval_rejected_compensates(script, django_capture_on_commit_callbacks):
    script.faults["b"] = ["approval"]
    saga = start(django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        services.saga_decide_approval(saga_id=saga.id, approve=False, reason="no")
    saga.refresh_from_db()
    assert saga.status == SagaStatus.COMPENSATED
    assert script.calls == ["a", "b", "undo_a"]
    assert saga.saga_data["failure"]["code"] == "approval_rejected"
    # a second decision is refused and changes nothing
    with pytest.raises(InvalidSagaState):
        services.saga_decide_approval(saga_id=saga.id, approve=True)


def test_force_compensation_of_a_running_saga(script, django_capture_on_commit_callbacks,
                                              settings):
    # given a saga that did a and b, and whose c waits for a retry in a minute
    settings.SAGA_RETRY_BACKOFF_SECONDS = 60
    settings.SAGA_RETRY_BACKOFF_MAX_SECONDS = 60
    script.faults["c"] = ["transient"]
    saga = start(django_capture_on_commit_callbacks)
    # when staff force compensation
    with django_capture_on_commit_callbacks(execute=True):
        services.saga_force_compensation(saga_id=saga.id, reason="customer called")
    saga.refresh_from_db()
    # then c (outcome unknown) and a are undone, and c is never retried
    assert saga.status == SagaStatus.COMPENSATED
    assert script.calls == ["a", "b", "c", "undo_c", "undo_a"]
    assert saga.saga_data["failure"]["message"] == "customer called"


def test_staff_commands_refuse_finished_sagas(script, django_capture_on_commit_callbacks):
    saga = start(django_capture_on_commit_callbacks)
    for call in (lambda: services.saga_retry(saga_id=saga.id),
                 lambda: services.saga_force_compensation(saga_id=saga.id, reason="x")):
        with pytest.raises(InvalidSagaState):
            call()
    saga.refresh_from_db()
    assert saga.status == SagaStatus.COMPLETED
