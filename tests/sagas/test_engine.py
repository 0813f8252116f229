"""The saga engine with a scripted toy saga (eager Celery; on-commit callbacks executed)."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from commerce.eventstore.models import Event
from sagas import engine, services
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


def test_duplicate_delivery_runs_the_effect_once(script, django_capture_on_commit_callbacks):
    # given a saga waiting at step a (first message not yet delivered)
    with django_capture_on_commit_callbacks(execute=False):
        saga = services.saga_start(saga_type="toy", correlation_id=uuid.uuid4(), data={})
    # when the same message is delivered twice
    with django_capture_on_commit_callbacks(execute=False) as sent:
        first = engine.run_step(str(saga.id), 0, "forward")
        second = engine.run_step(str(saga.id), 0, "forward")
    # then the second delivery is stale and a ran once; only one next message was sent
    assert (first, second) == ("succeeded", "stale")
    assert script.calls == ["a"]
    assert len(sent) == 1
    saga.refresh_from_db()
    assert saga.current_step == 1
    assert steps(saga) == [("a", "forward", "succeeded", 1)]


def test_stale_message_for_finished_saga_does_nothing(script, django_capture_on_commit_callbacks):
    saga = start(django_capture_on_commit_callbacks)
    assert engine.run_step(str(saga.id), 3, "forward") == "stale"
    assert engine.run_step(str(uuid.uuid4()), 0, "forward") == "stale"
    assert script.calls == ["a", "b", "c", "d"]


def test_sweeper_resumes_a_saga_whose_message_was_lost(
        script, django_capture_on_commit_callbacks):
    # given a saga whose first message was lost (never sent) and whose deadline passed
    with django_capture_on_commit_callbacks(execute=False):
        saga = services.saga_start(saga_type="toy", correlation_id=uuid.uuid4(), data={})
    SagaInstance.objects.filter(pk=saga.pk).update(
        deadline=timezone.now() - timedelta(seconds=1))
    # when the beat task runs
    with django_capture_on_commit_callbacks(execute=True):
        resumed = services.saga_resume_stalled()
    # then
    saga.refresh_from_db()
    assert resumed == 1
    assert saga.status == SagaStatus.COMPLETED
    assert script.calls == ["a", "b", "c", "d"]


def test_sweeper_leaves_sagas_within_deadline_alone(script, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        services.saga_start(saga_type="toy", correlation_id=uuid.uuid4(), data={})
    with django_capture_on_commit_callbacks(execute=True) as sent:
        assert services.saga_resume_stalled() == 0
    assert sent == [] and script.calls == []


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


def test_force_compensation_of_a_running_saga(script, django_capture_on_commit_callbacks):
    # given a saga that did a and b, and c's message is pending
    with django_capture_on_commit_callbacks(execute=False):
        saga = services.saga_start(saga_type="toy", correlation_id=uuid.uuid4(), data={})
    engine.run_step(str(saga.id), 0, "forward")
    engine.run_step(str(saga.id), 1, "forward")
    # when staff force compensation
    with django_capture_on_commit_callbacks(execute=True):
        services.saga_force_compensation(saga_id=saga.id, reason="customer called")
    saga.refresh_from_db()
    # then c (outcome unknown) and a are undone; the pending c message is now stale
    assert saga.status == SagaStatus.COMPENSATED
    assert script.calls == ["a", "b", "undo_c", "undo_a"]
    assert engine.run_step(str(saga.id), 2, "forward") == "stale"
    assert saga.saga_data["failure"]["message"] == "customer called"


def test_staff_commands_refuse_finished_sagas(script, django_capture_on_commit_callbacks):
    saga = start(django_capture_on_commit_callbacks)
    for call in (lambda: services.saga_retry(saga_id=saga.id),
                 lambda: services.saga_force_compensation(saga_id=saga.id, reason="x")):
        with pytest.raises(InvalidSagaState):
            call()
    saga.refresh_from_db()
    assert saga.status == SagaStatus.COMPLETED
