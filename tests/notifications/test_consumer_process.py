"""`manage.py consume_events` as real processes: one is killed after reading a batch but
before acknowledging it, another takes the entries over; and a consumer waits out a Redis
restart (a private redis-server, never the shared one)."""

import contextlib
import shutil
import signal
import subprocess
import sys
import threading
import time

import psycopg
import pytest
import redis
from django.conf import settings
from django.db import connection

from notifications.models import Delivery, ProcessedEvent
from notifications.stream import StreamConsumer
from simulators.server import free_port
from tests.integration.worker import ROOT, stop_worker, wait_for, worker_env
from tests.notifications.conftest import GROUP
from tests.notifications.test_consumer import low_stock_events

pytestmark = [pytest.mark.slow]


def start_consumer(name: str, log_path, *extra: str) -> subprocess.Popen:
    cmd = [sys.executable, "manage.py", "consume_events", "--group", GROUP, "--consumer", name,
           "--from-start", "--block-ms", "200", "--batch-size", "100", *extra]
    log = open(log_path, "ab")  # noqa: SIM115 - closed with the process by the OS
    return subprocess.Popen(cmd, cwd=ROOT, env=worker_env(), stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)


def read_everything(client) -> bool:
    """The group has been handed every entry of the stream."""
    last_id = client.xrevrange(settings.EVENTS_STREAM_KEY, count=1)[0][0]
    groups = client.xinfo_groups(settings.EVENTS_STREAM_KEY)
    return any(g["name"].decode() == GROUP and g["last-delivered-id"] == last_id
               for g in groups)


@pytest.mark.django_db(transaction=True)
def test_a_consumer_killed_before_acknowledging_loses_nothing_and_repeats_nothing(
        tmp_path):
    client = redis.Redis.from_url(settings.REDIS_URL)
    # given 12 low-stock crossings committed and on the stream
    skus = low_stock_events(12)
    # and handling blocked, so consumer a can read a batch but not finish it: a second
    # connection locks the dedupe table every handling writes to
    db = connection.settings_dict
    blocker = psycopg.connect(host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432,
                              user=db["USER"], dbname=db["NAME"], autocommit=False)
    blocker.execute("LOCK TABLE notification_processed_events IN EXCLUSIVE MODE")
    a = start_consumer("a", tmp_path / "a.log")
    b = None
    try:
        # when a has read every entry (those it could handle are pending to it, not
        # acknowledged) and is killed
        wait_for(lambda: read_everything(client), timeout=60, what="consumer a to read")
        assert client.xpending(settings.EVENTS_STREAM_KEY, GROUP)["pending"] > 0
        stop_worker(a, sig=signal.SIGKILL)
        blocker.rollback()
        assert ProcessedEvent.objects.count() == 0
        # and consumer b starts, claiming entries idle for more than a second
        b = start_consumer("b", tmp_path / "b.log", "--min-idle-ms", "1000",
                           "--claim-every", "0.5")
        # then b handles and acknowledges every entry a left behind
        wait_for(lambda: client.xpending(settings.EVENTS_STREAM_KEY, GROUP)["pending"] == 0,
                 timeout=60, what="every entry acknowledged")
    finally:
        blocker.close()
        stop_worker(a, sig=signal.SIGKILL)
        if b is not None:
            stop_worker(b)
    # and each crossing produced exactly one delivery: nothing lost, nothing twice
    low = Delivery.objects.filter(kind="low_stock")
    assert low.count() == 12, (tmp_path / "b.log").read_text()[-3000:]
    assert sorted(next(s for s in skus if s in d.body) for d in low) == sorted(skus)
    assert ProcessedEvent.objects.filter(event_type="LowStockReached").count() == 12


@contextlib.contextmanager
def private_redis(port: int, tmp_path):
    """A redis-server of our own (no persistence), so the test may kill it."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(tmp_path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(port=port)
    wait_for(lambda: _pings(client), timeout=10, what="redis-server to start")
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait(10)


def _pings(client) -> bool:
    try:
        return client.ping()
    except redis.ConnectionError:
        return False


def test_the_consumer_waits_out_a_redis_restart(tmp_path):
    port = free_port()
    handled: list[str] = []
    stop = threading.Event()

    def handler(entry_id, fields):
        handled.append(fields["n"])
        return "handled"

    consumer = StreamConsumer(
        client=redis.Redis(port=port, socket_timeout=2, socket_connect_timeout=1),
        stream="events", group="g", consumer="c1", handler=handler, block_ms=100,
        start_id="0")
    thread = threading.Thread(target=consumer.run, args=(stop,),
                              kwargs={"max_backoff": 0.5}, daemon=True)
    producer = redis.Redis(port=port)
    try:
        with private_redis(port, tmp_path):
            thread.start()
            producer.xadd("events", {"n": "1"})
            wait_for(lambda: handled == ["1"], timeout=20, what="the first entry")
        # when Redis goes away (its data with it) for a while and comes back
        time.sleep(1)
        with private_redis(port, tmp_path):
            producer.xadd("events", {"n": "2"})
            # then the consumer reconnects, re-creates its group and goes on
            wait_for(lambda: handled == ["1", "2"], timeout=30, what="the entry after restart")
            assert thread.is_alive()
    finally:
        stop.set()
        thread.join(10)
