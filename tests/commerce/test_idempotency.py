import uuid

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
def test_concurrent_duplicates_commit_the_work_once():
    # given work whose effect is a row (a duplicate may start it; only one may commit it)
    from commerce.accounts.models import User

    def work():
        User.objects.create_user(f"dup-{uuid.uuid4().hex}@example.com", "x")
        return 201, {"n": 1}

    def client():
        return run_idempotent(scope="s", owner="u", key="same", payload={"x": 1}, work=work)

    # when eight requests with one key arrive at once
    results = run_concurrently([client] * 8)
    # then one committed its work and the others replayed its answer
    assert User.objects.filter(email__startswith="dup-").count() == 1
    assert sorted(r.replayed for r in results) == [False] + [True] * 7
    assert {r.body["n"] for r in results} == {1}


@pytest.mark.django_db
def test_records_are_purged_after_their_window_and_the_key_starts_afresh(settings):
    import datetime as dt

    from django.utils import timezone

    from commerce.core.tasks import purge_idempotency_records

    # given one record inside the 24 h window and two past it
    for key in ("old-1", "old-2", "fresh"):
        run_idempotent(scope="s", owner="u1", key=key, payload={}, work=lambda: (201, {}))
    IdempotencyRecord.objects.filter(key__startswith="old").update(
        created_at=timezone.now() - dt.timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS,
                                                 seconds=1))
    # when the key of an expired record comes back before the purge, then it is a new request
    again = run_idempotent(scope="s", owner="u1", key="old-1", payload={"other": 1},
                           work=lambda: (201, {"second": True}))
    assert (again.replayed, again.body) == (False, {"second": True})
    # when the beat task purges, then only the expired record goes, and a rerun is a no-op
    assert purge_idempotency_records() == 1
    assert sorted(IdempotencyRecord.objects.values_list("key", flat=True)) == ["fresh", "old-1"]
    assert purge_idempotency_records() == 0


def test_beat_schedules_the_purges():
    from commerce.celery import app

    tasks = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert {"core.purge_idempotency_records", "accounts.purge_expired_tokens"} <= tasks
