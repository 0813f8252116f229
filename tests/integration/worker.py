"""Real Celery worker processes for integration tests: started against the test database
and the test Redis, always terminated (and killed if need be) by the caller."""

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def worker_env(**overrides) -> dict:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "commerce.settings.test",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        # The worker must use the test database itself, not the developer's.
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:"
                        f"{db['PORT'] or 5432}/{db['NAME']}",
        "TEST_REDIS_URL": settings.REDIS_URL,
        # The payment processor simulator the test session serves (tests/conftest.py).
        "PAYMENT_API_BASE_URL": settings.PAYMENT_API_BASE_URL,
        "PYTHONUNBUFFERED": "1",
    }
    env.update({k: str(v) for k, v in overrides.items()})
    return env


def start_worker(log_path: Path, *, name: str = "w1", concurrency: int = 1,
                 **env_overrides) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "celery", "-A", "commerce", "worker", "-l", "WARNING",
           "-n", f"{name}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat"]
    cmd += ["--pool=solo"] if concurrency == 1 else ["--pool=prefork",
                                                    f"--concurrency={concurrency}"]
    log = open(log_path, "ab")  # noqa: SIM115 - closed with the process by the OS
    return subprocess.Popen(cmd, cwd=ROOT, env=worker_env(**env_overrides), stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)


def stop_worker(proc: subprocess.Popen, *, sig=signal.SIGTERM, timeout: float = 10) -> None:
    """Stop the worker's whole process group; SIGKILL if it does not exit in time."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, sig)
        proc.wait(timeout=timeout)
    except (subprocess.TimeoutExpired, ProcessLookupError):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def wait_for(predicate, *, timeout: float, interval: float = 0.2, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
