"""`make run` / `make test` on a bare machine: when nothing answers at the configured URLs,
scripts/devservices.py starts an embedded PostgreSQL and Redis there, keeps their data
between runs and stops them on exit. Proven on ports where nothing listens (the shared
servers are never touched)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from simulators.server import free_port

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "devservices.py"

CHECK = """
import os, psycopg, redis
db = os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/postgres"
with psycopg.connect(db, autocommit=True) as conn:
    conn.execute("CREATE TABLE IF NOT EXISTS runs (n int)")
    conn.execute("INSERT INTO runs VALUES (1)")
    print("pg_runs", conn.execute("SELECT count(*) FROM runs").fetchone()[0])
print("redis_runs", redis.Redis.from_url(os.environ["REDIS_URL"]).incr("runs"))
"""


def run_with_services(env):
    return subprocess.run([sys.executable, str(SCRIPT), "--", sys.executable, "-c", CHECK],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)


@pytest.mark.slow
def test_embedded_services_start_keep_data_and_stop(tmp_path):
    sys.path.insert(0, str(SCRIPT.parent))
    import devservices

    pg_port, redis_port = free_port(), free_port()
    env = {**os.environ,
           "DATABASE_URL": f"postgres://postgres@127.0.0.1:{pg_port}/commerce",
           "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
           "COMMERCE_DATA_DIR": str(tmp_path / "data")}
    env.pop("TEST_REDIS_URL", None)
    # given nothing listening on either port
    assert not devservices.answers("127.0.0.1", pg_port)
    assert not devservices.answers("127.0.0.1", redis_port)

    # when a command runs with the services
    first = run_with_services(env)
    # then embedded servers answered it there, said so in one line, and are stopped after
    assert first.returncode == 0, first.stderr + first.stdout
    notice = [line for line in first.stdout.splitlines() if "embedded" in line]
    assert len(notice) == 1
    assert f"PostgreSQL on 127.0.0.1:{pg_port}" in notice[0]
    assert f"Redis on 127.0.0.1:{redis_port}" in notice[0]
    assert "pg_runs 1" in first.stdout and "redis_runs 1" in first.stdout
    assert not devservices.answers("127.0.0.1", pg_port)
    assert not devservices.answers("127.0.0.1", redis_port)

    # when it runs again: the data of the first run is still there
    second = run_with_services(env)
    assert second.returncode == 0, second.stderr + second.stdout
    assert "pg_runs 2" in second.stdout and "redis_runs 2" in second.stdout
    assert not devservices.answers("127.0.0.1", pg_port)


def test_answering_services_are_used_as_they_are(tmp_path):
    # given the configured (shared) servers answer: nothing is started, nothing said
    env = {**os.environ, "COMMERCE_DATA_DIR": str(tmp_path / "data")}
    result = subprocess.run([sys.executable, str(SCRIPT), "--", sys.executable, "-c",
                             "print('ran')"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0
    assert result.stdout.strip() == "ran"
    assert not (tmp_path / "data").exists()
