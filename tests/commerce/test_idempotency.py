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


# --- database_only: the key is claimed at the end of the work, not read first --------------
def _user_work(body: dict):
    from commerce.accounts.models import User

    def work():
        User.objects.create_user(f"once-{uuid.uuid4().hex}@example.com", "x")
        return 201, body

    return work


def _users() -> int:
    from commerce.accounts.models import User

    return User.objects.filter(email__startswith="once-").count()


@pytest.mark.django_db
def test_database_only_a_new_key_costs_no_read():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    # when a new key's work runs
    with CaptureQueriesContext(connection) as queries:
        run_idempotent(scope="s", owner="u1", key="k", payload={}, database_only=True,
                       work=_user_work({}))
    # then the record is written, never read
    touching = [q["sql"].split()[0] for q in queries if "idempotency_records" in q["sql"]]
    assert touching == ["INSERT"]
    assert IdempotencyRecord.objects.count() == 1


@pytest.mark.django_db
def test_database_only_a_retry_rolls_its_work_back_and_replays_the_first_answer():
    first = run_idempotent(scope="s", owner="u1", key="k", payload={"a": 1},
                           work=_user_work({"id": 1}), database_only=True)
    second = run_idempotent(scope="s", owner="u1", key="k", payload={"a": 1},
                            work=_user_work({"id": 2}), database_only=True)
    assert (first.status, first.body, first.replayed) == (201, {"id": 1}, False)
    assert (second.status, second.body, second.replayed) == (201, {"id": 1}, True)
    assert _users() == 1 and IdempotencyRecord.objects.count() == 1


@pytest.mark.django_db
def test_database_only_same_key_different_body_is_refused_with_422_and_nothing_kept():
    run_idempotent(scope="s", owner="u1", key="k", payload={"a": 1}, work=_user_work({}),
                   database_only=True)
    with pytest.raises(IdempotencyKeyReused):
        run_idempotent(scope="s", owner="u1", key="k", payload={"a": 2}, work=_user_work({}),
                       database_only=True)
    assert _users() == 1


@pytest.mark.django_db
def test_database_only_a_retry_replays_the_success_even_if_the_work_is_now_refused():
    # given a request that succeeded (e.g. took the last stock)
    run_idempotent(scope="s", owner="u1", key="k", payload={"a": 1}, work=_user_work({"ok": 1}),
                   database_only=True)

    def refused():
        raise Conflict("insufficient stock now")

    # when its retry's work would be refused, then the first answer is replayed
    again = run_idempotent(scope="s", owner="u1", key="k", payload={"a": 1}, work=refused,
                           database_only=True)
    assert (again.status, again.body, again.replayed) == (201, {"ok": 1}, True)


@pytest.mark.django_db
def test_database_only_a_refusal_with_no_record_is_raised_and_stores_nothing():
    def refused():
        raise Conflict("nope")

    with pytest.raises(Conflict):
        run_idempotent(scope="s", owner="u1", key="k", payload={}, work=refused,
                       database_only=True)
    assert IdempotencyRecord.objects.count() == 0


@pytest.mark.django_db
def test_database_only_an_expired_key_starts_afresh(settings):
    import datetime as dt

    from django.utils import timezone

    run_idempotent(scope="s", owner="u1", key="k", payload={}, work=_user_work({"n": 1}),
                   database_only=True)
    IdempotencyRecord.objects.update(created_at=timezone.now() - dt.timedelta(
        hours=settings.IDEMPOTENCY_KEY_TTL_HOURS, seconds=1))
    again = run_idempotent(scope="s", owner="u1", key="k", payload={"other": 1},
                           work=_user_work({"n": 2}), database_only=True)
    assert (again.replayed, again.body) == (False, {"n": 2})
    assert _users() == 2
    assert list(IdempotencyRecord.objects.values_list("response_body", flat=True)) == [{"n": 2}]


@pytest.mark.django_db(transaction=True)
def test_database_only_concurrent_duplicates_commit_the_work_once():
    def client():
        return run_idempotent(scope="s", owner="u", key="same", payload={"x": 1},
                              work=_user_work({"n": 1}), database_only=True)

    results = run_concurrently([client] * 8)
    assert _users() == 1
    assert sorted(r.replayed for r in results) == [False] + [True] * 7
    assert {r.body["n"] for r in results} == {1}
