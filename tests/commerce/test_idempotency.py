import pytest

from commerce.core.errors import Conflict
from commerce.core.idempotency import IdempotencyKeyReused, run_idempotent
from commerce.core.models import IdempotencyRecord
from tests.concurrency import run_concurrently


@pytest.mark.django_db
def test_same_key_and_body_replays_the_first_response_without_rerunning():
    calls = []

    def work():
        calls.append(1)
        return 201, {"id": len(calls)}

    first = run_idempotent(scope="s", owner="u1", key="k", payload={"a": 1}, work=work)
    second = run_idempotent(scope="s", owner="u1", key="k", payload={"a": 1}, work=work)
    assert (first.status, first.body, first.replayed) == (201, {"id": 1}, False)
    assert (second.status, second.body, second.replayed) == (201, {"id": 1}, True)
    assert len(calls) == 1


@pytest.mark.django_db
def test_same_key_different_body_is_refused_with_422():
    run_idempotent(scope="s", owner="u1", key="k", payload={"a": 1}, work=lambda: (201, {}))
    with pytest.raises(IdempotencyKeyReused) as info:
        run_idempotent(scope="s", owner="u1", key="k", payload={"a": 2}, work=lambda: (201, {}))
    assert info.value.http_status == 422


@pytest.mark.django_db
def test_keys_are_scoped_per_owner():
    run_idempotent(scope="s", owner="u1", key="k", payload={}, work=lambda: (201, {"who": 1}))
    other = run_idempotent(scope="s", owner="u2", key="k", payload={},
                           work=lambda: (201, {"who": 2}))
    assert other.body == {"who": 2} and other.replayed is False


@pytest.mark.django_db
def test_failed_work_stores_no_record_so_a_retry_runs_again():
    def fail():
        raise Conflict("nope")

    with pytest.raises(Conflict):
        run_idempotent(scope="s", owner="u1", key="k", payload={}, work=fail)
    assert IdempotencyRecord.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_run_the_work_once():
    calls = []

    def work():
        calls.append(1)
        return 201, {"n": 1}

    def client():
        return run_idempotent(scope="s", owner="u", key="same", payload={"x": 1}, work=work)

    results = run_concurrently([client] * 8)
    assert len(calls) == 1
    assert sorted(r.replayed for r in results) == [False] + [True] * 7
    assert {r.body["n"] for r in results} == {1}
