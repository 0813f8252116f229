"""Wake-ups asked for inside a transaction go after its commit, all in one Redis round trip,
and never fail the command that committed."""

import pytest
import redis
from celery import shared_task
from django.db import transaction

from commerce.core import metrics, wakeups

RAN: list[str] = []


@shared_task(name="tests.wakeups.first")
def first_task():
    RAN.append("first")


@shared_task(name="tests.wakeups.second")
def second_task():
    RAN.append("second")


@pytest.fixture(autouse=True)
def _ran():
    RAN.clear()
    yield
    RAN.clear()


@pytest.fixture
def pipelines(monkeypatch):
    """How many Redis pipelines were executed (each is one round trip)."""
    executed = []
    real = redis.client.Pipeline.execute

    def counting(self, *args, **kwargs):
        executed.append(len(self.command_stack))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(redis.client.Pipeline, "execute", counting)
    return executed


@pytest.mark.django_db(transaction=True)
def test_a_transactions_wake_ups_go_after_commit_in_one_round_trip(pipelines):
    client = wakeups.redis_client()
    # given two tasks asked for inside one transaction, the first one twice
    with transaction.atomic():
        wakeups.request_after_commit(first_task, flag="test:wake:first")
        wakeups.request_after_commit(second_task, flag="test:wake:second")
        wakeups.request_after_commit(first_task, flag="test:wake:first")
        # then nothing is sent before the commit
        assert RAN == [] and pipelines == []
        assert client.exists("test:wake:first", "test:wake:second") == 0
    # then after it: both flags set in one pipeline, each task queued once
    assert pipelines == [2]
    assert client.exists("test:wake:first", "test:wake:second") == 2
    assert 0 < client.ttl("test:wake:first") <= wakeups.FLAG_TTL_SECONDS
    assert RAN == ["first", "second"]


@pytest.mark.django_db(transaction=True)
def test_a_flag_already_set_queues_no_second_task(pipelines):
    # given a wake-up of the first task already queued (its flag set, not yet cleared)
    wakeups.redis_client().set("test:wake:first", "1")
    # when a transaction asks for both
    with transaction.atomic():
        wakeups.request_after_commit(first_task, flag="test:wake:first")
        wakeups.request_after_commit(second_task, flag="test:wake:second")
    # then only the second is queued
    assert RAN == ["second"]


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_wakes_nothing(pipelines):
    with pytest.raises(RuntimeError), transaction.atomic():
        wakeups.request_after_commit(first_task, flag="test:wake:first")
        raise RuntimeError("refused")
    # and the next transaction starts a batch of its own
    with transaction.atomic():
        wakeups.request_after_commit(second_task, flag="test:wake:second")
    assert RAN == ["second"]
    assert pipelines == [1]
    assert wakeups.redis_client().exists("test:wake:first") == 0


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_savepoint_leaves_the_outer_transactions_wake_ups(pipelines):
    with transaction.atomic():
        with pytest.raises(RuntimeError), transaction.atomic():
            wakeups.request_after_commit(first_task, flag="test:wake:first")
            raise RuntimeError("refused")
        wakeups.request_after_commit(second_task, flag="test:wake:second")
    assert RAN == ["second"]


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_wake_up_goes_at_once(pipelines):
    wakeups.request_after_commit(first_task, flag="test:wake:first")
    assert RAN == ["first"]


@pytest.mark.django_db(transaction=True)
def test_redis_down_at_commit_is_logged_and_counted_and_the_commit_stands(monkeypatch, caplog):
    from commerce.accounts.models import User

    # given Redis unreachable (a port nothing listens on)
    from simulators.server import free_port

    dead = redis.Redis(host="127.0.0.1", port=free_port(), socket_connect_timeout=0.5)
    monkeypatch.setattr(wakeups, "redis_client", lambda: dead)
    failures = metrics.WAKEUP_FAILURES.labels(task="tests.wakeups.first")
    before = failures._value.get()
    # when a transaction that asked for a wake-up commits
    with transaction.atomic():
        User.objects.create_user("wake-down@example.com", "x")
        wakeups.request_after_commit(first_task, flag="test:wake:first")
    # then the commit stands, the failure is logged and counted, no task ran
    assert User.objects.filter(email="wake-down@example.com").exists()
    assert failures._value.get() == before + 1
    assert "could not wake a worker" in caplog.text
    assert RAN == []


@pytest.mark.django_db(transaction=True)
def test_a_batch_that_raises_is_logged_and_the_later_hooks_still_run(monkeypatch, caplog):
    # given a wake-up batch whose sending fails in a way it does not catch itself
    def broken(self):
        raise RuntimeError("unexpected")

    monkeypatch.setattr(wakeups._PendingWakeups, "send", broken)
    after = []
    # when its transaction commits, with another hook registered after it
    with transaction.atomic():
        wakeups.request_after_commit(first_task, flag="test:wake:first")
        transaction.on_commit(lambda: after.append("ran"), robust=True)
    # then Django logged the failure (by the hook's name) and ran the next hook
    assert after == ["ran"]
    assert "unexpected" in caplog.text
