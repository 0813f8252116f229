"""`make run` (scripts/run.py) supervises its processes: a worker or beat that dies is
restarted, and a stop signal ends everything with exit status 0. Real processes on a scratch
database; never the developer's."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import psycopg
import pytest
from django.conf import settings
from django.db import connection
from psycopg import sql

from commerce.core import liveness
from simulators.registry import SIMULATORS
from simulators.server import free_port

ROOT = Path(__file__).resolve().parents[2]


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def program_pid(supervisord: psutil.Process, marker: str) -> int | None:
    """The pid of supervisord's child whose command line contains `marker`."""
    for child in supervisord.children():
        try:
            if marker in " ".join(child.cmdline()):
                return child.pid
        except psutil.NoSuchProcess:
            continue
    return None


@pytest.fixture
def scratch_database():
    db = connection.settings_dict
    base = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    name = f"{db['NAME']}_run"
    yield f"{base}/{name}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
                     .format(sql.Identifier(name)))


@pytest.mark.slow
def test_make_run_restarts_dead_worker_and_beat_and_stops_cleanly(scratch_database, tmp_path,
                                                                monkeypatch):
    port = free_port()
    env = {**os.environ, "PORT": str(port), "DATABASE_URL": scratch_database,
           "REDIS_URL": settings.REDIS_URL, "DJANGO_SETTINGS_MODULE": "commerce.settings.local",
           "LOG_LEVEL": "WARNING"}
    env.update({sim.port_env: str(free_port()) for sim in SIMULATORS})
    run_dir = ROOT / ".run" / str(port)
    env["LIVENESS_DIR"] = str(run_dir / "liveness")
    log = open(tmp_path / "run.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([sys.executable, "scripts/run.py"], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    monkeypatch.setenv("LIVENESS_DIR", env["LIVENESS_DIR"])  # liveness.age() reads it
    try:
        # given make run is up: worker and beat beat
        runner = psutil.Process(proc.pid)
        supervisord = wait_for(lambda: next((c for c in runner.children()
                                             if "supervisord" in " ".join(c.cmdline())),
                                            None), 240, "supervisord")
        for name in ("worker", "beat"):
            wait_for(lambda n=name: (liveness.age(n) or 99) < 15, 240, f"{name} heartbeat")

        for name, marker in (("worker", " worker "), ("beat", " beat ")):
            # when the process is killed
            old = program_pid(supervisord, marker)
            assert old is not None
            os.killpg(old, signal.SIGKILL)
            killed_at = time.time()
            # then supervision starts a new one, which beats again
            wait_for(lambda m=marker, o=old: program_pid(supervisord, m) not in (None, o),
                     60, f"{name} restarted")
            wait_for(lambda n=name, k=killed_at:
                     liveness.path(n).exists() and liveness.path(n).stat().st_mtime > k,
                     120, f"{name} heartbeat after restart")

        # when make run is told to stop
        everything = [p.pid for p in runner.children(recursive=True)]
        proc.send_signal(signal.SIGINT)
        # then it exits 0 and leaves no process behind
        assert proc.wait(120) == 0
        wait_for(lambda: not [p for p in everything if psutil.pid_exists(p)
                              and psutil.Process(p).status() != psutil.STATUS_ZOMBIE],
                 30, "every process gone")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        log.close()
