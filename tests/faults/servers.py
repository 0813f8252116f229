"""Private Redis and PostgreSQL servers for fault tests, started on free ports in a temp
directory and killed by the test: the machine's shared services are never touched."""

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg
import redis

from simulators.server import free_port

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))


def _wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class RedisServer:
    """redis-server with AOF persistence (appendfsync always: an acknowledged write
    survives a SIGKILL, as the event stream needs), restartable on the same port and data."""

    def __init__(self, workdir: Path):
        self.dir = workdir / "redis"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> "RedisServer":
        log = open(self.dir / "redis.log", "ab")  # noqa: SIM115 - owned by the process
        self.proc = subprocess.Popen(
            [shutil.which("redis-server") or "redis-server", "--port", str(self.port),
             "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes",
             "--appendfsync", "always", "--dir", str(self.dir)],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        _wait(self.answers, 10, f"redis on {self.port}")
        return self

    def answers(self) -> bool:
        try:
            return redis.Redis(port=self.port, socket_timeout=0.5).ping()
        except redis.RedisError:
            return False

    def kill(self) -> None:
        """SIGKILL: no chance to persist anything it had not already written."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def shutdown(self) -> None:
        """A clean SHUTDOWN, as an operator's restart would do."""
        if self.proc and self.proc.poll() is None:
            with contextlib.suppress(redis.RedisError):  # the connection closes under it
                redis.Redis(port=self.port).shutdown()
            self.proc.wait(10)

    def client(self, db: int = 0) -> redis.Redis:
        return redis.Redis(port=self.port, db=db)


class PostgresCluster:
    """A throwaway PostgreSQL cluster (initdb) on a free port; runs as the `postgres` OS
    user when the tests run as root (PostgreSQL refuses to run as root)."""

    def __init__(self):
        # Its own directory, not pytest's (whose parents only root may enter).
        self.dir = Path(tempfile.mkdtemp(prefix="commerce-faults-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        self._as = []
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.dir, user.pw_uid, user.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]

    def url(self, dbname: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{dbname}"

    def init(self) -> "PostgresCluster":
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
                  "-E", "UTF8", "--no-sync")
        return self.start()

    def start(self) -> "PostgresCluster":
        opts = (f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                f"-c max_connections=100")
        self._run("pg_ctl", "-D", str(self.data), "-o", opts, "-l", str(self.dir / "pg.log"),
                  "-w", "start")
        return self

    def stop(self, mode: str = "fast") -> None:
        """fast: disconnect everyone and stop; immediate: like a crash (recovery on start)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def destroy(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)

    def create_database(self, name: str) -> None:
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')

    def _run(self, tool: str, *args: str, check: bool = True) -> None:
        subprocess.run([*self._as, str(PG_BIN / tool), *args], check=check,
                       capture_output=True, timeout=60)
