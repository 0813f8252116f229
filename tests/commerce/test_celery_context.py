from celery import shared_task

from commerce.core import context


@shared_task(name="tests.echo_context")
def echo_context():
    return context.current()


def test_task_runs_with_the_callers_correlation_id_and_actor():
    # given a request context; when a task is sent (eager in tests, same signals)
    with context.bind(correlation_id="req-42", actor="user:abc"):
        result = echo_context.apply_async().result
    # then the task sees the caller's ids, and its own id as the causation id
    assert result["correlation_id"] == "req-42"
    assert result["actor"] == "user:abc"
    assert result["causation_id"] is not None


def test_task_without_a_caller_context_uses_its_own_id():
    result = echo_context.apply_async().result
    assert result["correlation_id"] == result["causation_id"]
    assert result["actor"] is None
