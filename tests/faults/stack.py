"""The service as an operator runs it, in real processes: gunicorn serving the API, a
Celery worker (prefork) and beat, against a given PostgreSQL database and Redis, with the
session's payment processor simulator. Fault tests break the backing services under it."""

import contextlib
import itertools
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from simulators.server import free_port
from tests.integration.worker import ROOT, stop_worker, wait_for, worker_env
from tests.sagas.helpers import ADDRESS


@dataclass
class Stack:
    workdir: Path
    database_url: str
    redis_url: str
    env: dict = field(default_factory=dict)
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    port: int = field(default_factory=free_port)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _env(self) -> dict:
        return worker_env(DATABASE_URL=self.database_url, TEST_REDIS_URL=self.redis_url,
                          **self.env)

    def _start(self, name: str, cmd: list[str]) -> subprocess.Popen:
        log = open(self.workdir / f"{name}.log", "ab")  # noqa: SIM115 - owned by the process
        proc = subprocess.Popen(cmd, cwd=ROOT, env=self._env(), stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        self.procs[name] = proc
        return proc

    def start_web(self, workers: int = 2) -> None:
        self._start("web", [sys.executable, "-m", "gunicorn", "commerce.wsgi:application",
                            "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers),
                            "--threads", "4", "--timeout", "60"])
        wait_for(self._web_answers, timeout=30, what="gunicorn to answer")

    def start_worker(self, concurrency: int = 2) -> None:
        self._start("worker", [sys.executable, "-m", "celery", "-A", "commerce", "worker",
                               "-l", "INFO", "--pool=prefork", f"--concurrency={concurrency}",
                               "-n", f"faults-{self.port}@%h", "--without-gossip",
                               "--without-mingle"])

    def start_beat(self) -> None:
        self._start("beat", [sys.executable, "-m", "celery", "-A", "commerce", "beat",
                             "-l", "INFO", "--schedule", str(self.workdir / "beat-schedule")])

    def manage(self, *args: str) -> subprocess.CompletedProcess:
        """`manage.py <args>` against the stack's database and Redis."""
        return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self._env(),
                              capture_output=True, text=True, timeout=300)

    def django(self, code: str) -> str:
        """Run Python with Django set up on the stack's database (test data through the real
        services); returns what it printed."""
        result = subprocess.run(
            [sys.executable, "-c", f"import django; django.setup()\n{code}"], cwd=ROOT,
            env=self._env(), capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr[-3000:]
        return result.stdout

    def alive(self, name: str) -> bool:
        return self.procs[name].poll() is None

    def log(self, name: str) -> str:
        return (self.workdir / f"{name}.log").read_text(errors="replace")

    def stop(self) -> None:
        for proc in self.procs.values():
            stop_worker(proc)

    def _web_answers(self) -> bool:
        try:
            return httpx.get(f"{self.base_url}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False


METHODS = ("pm_card_visa", "pm_card_chargeDeclined", "pm_card_timeout")


def place(client: httpx.Client, sku: str, method: str) -> tuple:
    """(status, response) of one order, or (the transport error's name, None)."""
    try:
        response = client.post("/api/v1/orders/", json={
            "lines": [{"sku": sku, "quantity": 1}], "shipping_address": ADDRESS,
            "payment_method": method})
    except httpx.HTTPError as exc:
        return type(exc).__name__, None
    return response.status_code, response


@contextlib.contextmanager
def order_stream(base_url: str, token: str, skus: list[str], *, clients: int = 2):
    """Orders streaming in from `clients` threads (cycling skus and test cards, a steady
    stream rather than a flood: the point is what happens around it) until the block ends;
    yields the list their answers go into."""
    answers: list = []
    stop = threading.Event()

    def client_loop(n: int) -> None:
        with httpx.Client(base_url=base_url, timeout=30,
                          headers={"Authorization": f"Bearer {token}"}) as client:
            for i in itertools.count():
                if stop.is_set():
                    return
                answers.append(place(client, skus[(n + i) % len(skus)],
                                     METHODS[(n + i) % len(METHODS)]))
                time.sleep(0.05)

    threads = [threading.Thread(target=client_loop, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    try:
        yield answers
    finally:
        stop.set()
        for thread in threads:
            thread.join(60)
