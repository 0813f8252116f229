"""What bench/bench_pipeline.py is made of: the machine's and each process's CPU time, the
processes it starts, the data it makes, wrk, and waiting for orders to be final."""

import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FINAL = ("confirmed", "failed", "cancelled")
# The bare reference's scratch copies of the real tables (bench/bare_app.py writes them).
TABLES = """
CREATE TABLE IF NOT EXISTS bench_bare_stock (sku text PRIMARY KEY, total integer NOT NULL,
                                             reserved integer NOT NULL);
CREATE TABLE IF NOT EXISTS bench_bare_events (LIKE events INCLUDING ALL);
CREATE TABLE IF NOT EXISTS bench_bare_orders (LIKE order_views INCLUDING ALL);
CREATE TABLE IF NOT EXISTS bench_bare_sagas (LIKE saga_instances INCLUDING ALL);
"""
ADDRESS = {"name": "Bench", "line1": "1 Main St", "city": "Springfield",
           "postal_code": "12345", "country": "US"}


# --- the machine -----------------------------------------------------------------------
def busy_jiffies() -> int:
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, idle, iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return user + nice + system + irq + softirq + steal


JIFFY_MS = 1000 / os.sysconf("SC_CLK_TCK")


def _proc_table() -> dict[int, tuple[int, int]]:
    """pid → (parent pid, CPU ticks so far) of every process of the machine."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        table[int(entry.name)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
    return table


class CpuAccount:
    """CPU ticks of named process trees (and of PostgreSQL backends by pid) between two
    readings, so a run on a shared machine can say what its own processes spent."""

    def __init__(self):
        self.start: dict[int, int] = {}

    def read(self) -> dict[int, int]:
        return {pid: ticks for pid, (_, ticks) in _proc_table().items()}

    def begin(self) -> None:
        self.start = self.read()

    def spent(self, roots: dict[str, list[int]]) -> dict[str, float]:
        """ms spent since `begin` by each group of process trees (name → root pids);
        processes that started meanwhile count from zero."""
        table = _proc_table()
        children: dict[int, list[int]] = {}
        for pid, (ppid, _) in table.items():
            children.setdefault(ppid, []).append(pid)
        result = {}
        for name, pids in roots.items():
            seen, stack, ticks = set(), list(pids), 0
            while stack:
                pid = stack.pop()
                if pid in seen or pid not in table:
                    continue
                seen.add(pid)
                ticks += table[pid][1] - self.start.get(pid, 0)
                stack.extend(children.get(pid, []))
            result[name] = ticks * JIFFY_MS
        return result


def need(tool: str, package: str) -> str | None:
    found = shutil.which(tool)
    if found is None and os.geteuid() == 0 and shutil.which("apt-get"):
        print(f"{tool} missing: apt-get install {package}", flush=True)
        subprocess.run(["apt-get", "install", "-y", "-q", package], capture_output=True)
        found = shutil.which(tool)
    return found


# --- processes ------------------------------------------------------------------------
class Processes:
    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.procs: dict[str, subprocess.Popen] = {}

    def start(self, name: str, cmd: list[str], **env) -> None:
        log = open(self.workdir / f"{name}.log", "ab")  # noqa: SIM115 - owned by the process
        self.procs[name] = subprocess.Popen(
            cmd, cwd=ROOT, env={**os.environ, **{k: str(v) for k, v in env.items()}},
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def stop(self, *names: str) -> None:
        for name in names or list(self.procs):
            proc = self.procs.pop(name, None)
            if proc is None or proc.poll() is not None:
                continue
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)


def start_web(procs: Processes, port: int, *, app: str, workers: int, threads: int) -> None:
    procs.start("web", [sys.executable, "-m", "gunicorn", app, "--bind",
                        f"127.0.0.1:{port}", "--config", "deploy/gunicorn.conf.py",
                        "--workers", str(workers), "--threads", str(threads)])
    wait_http(f"http://127.0.0.1:{port}/api/v1/orders/", 30)


def start_workers(procs: Processes, n: int) -> None:
    for i in range(n):
        procs.start(f"worker{i}", [sys.executable, "-m", "celery", "-A", "commerce", "worker",
                                   "-l", "WARNING", "--pool=solo", "-n", f"bench{i}@%h",
                                   "--without-gossip", "--without-mingle"])


def wait_http(url: str, timeout: float) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer within {timeout}s")


# --- data -----------------------------------------------------------------------------
def recreate_database(database_url: str) -> None:
    import psycopg
    from psycopg import sql

    name = database_url.rsplit("/", 1)[1]
    with psycopg.connect(database_url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as c:
        c.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(name)))
        c.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def prepare(*, customers: int, skus: int) -> tuple[list[str], list[str], str]:
    """Catalog (skus plus one hot sku), customers and their access tokens."""
    from django.core.management import call_command
    from django.db import connection
    from rest_framework_simplejwt.tokens import RefreshToken

    from commerce.accounts.services import user_register
    from commerce.core.redis import redis_client
    from inventory.services import item_create

    call_command("migrate", verbosity=0)
    redis_client().flushdb()
    names = [f"SKU-{n:04d}" for n in range(skus)]
    hot = "HOT-0001"
    for sku in [*names, hot]:
        item_create(sku=sku, product_id=f"prod_{sku.lower()}", name=f"Bench {sku}",
                    price="9.99", total_quantity=10_000_000)
    tokens = []
    for n in range(customers):
        user = user_register(email=f"bench-{n}@example.com", password="bench-password-123")
        tokens.append(str(RefreshToken.for_user(user).access_token))
    with connection.cursor() as cursor:
        cursor.execute(TABLES)
        cursor.executemany("INSERT INTO bench_bare_stock VALUES (%s, 10000000, 0)",
                           [[s] for s in [*names, hot]])
    return names, tokens, hot


WRK_SCRIPT = """
local bodies = {%(bodies)s}
local tokens = {%(tokens)s}
local counter = 0
local run = "__RUN__"  -- unique per wrk run (run_wrk): keys never repeat another run's
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
function request()
  counter = counter + 1
  local body = bodies[(counter %% #bodies) + 1]
  local token = tokens[(counter %% #tokens) + 1]
  return wrk.format("POST", "/api/v1/orders/", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
    ["Idempotency-Key"] = run .. "-" .. tid .. "-" .. counter}, body)
end
"""


def wrk_script(workdir: Path, names: list[str], tokens: list[str], hot: str, *,
               delay_ms: int = 0) -> Path:
    """The Lua script wrk runs. `delay_ms` paces each connection (wrk's delay()): with C
    connections about C × 1000 / delay_ms requests a second, below saturation."""
    import json

    rng = random.Random(7)
    bodies = []
    for _ in range(512):
        lines = [{"sku": rng.choice(names), "quantity": rng.randint(1, 3)}]
        if rng.random() < 0.25:  # a quarter of the orders also take the hot sku
            lines.append({"sku": hot, "quantity": 1})
        bodies.append(json.dumps({"lines": lines, "shipping_address": ADDRESS,
                                  "payment_method": "pm_card_visa"}))
    lua = lambda items: ", ".join(json.dumps(i) for i in items)  # noqa: E731
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "orders.lua"
    pacing = f"\nfunction delay()\n  return {delay_ms}\nend\n" if delay_ms else ""
    path.write_text(WRK_SCRIPT % {"bodies": lua(bodies), "tokens": lua(tokens)} + pacing)
    return path


def run_wrk(port: int, script: Path, *, clients: int, seconds: float) -> dict:
    # Each run its own Idempotency-Keys (Lua's math.random is not seeded: the same keys
    # every run, and a later run would only replay an earlier one's orders).
    run_script = script.with_name(f"run-{uuid.uuid4().hex}.lua")
    run_script.write_text(script.read_text().replace("__RUN__", uuid.uuid4().hex))
    out = subprocess.run(
        ["wrk", "-t2", f"-c{clients}", f"-d{int(seconds)}s", "--latency", "--timeout", "10s",
         "-s", str(run_script), f"http://127.0.0.1:{port}/api/v1/orders/"],
        capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                     out)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1, "s": 1000}
    return {"rate": rate, "errors": (int(non2xx.group(1)) if non2xx else 0)
            + (sum(int(g) for g in sock.groups()) if sock else 0),
            "p99_ms": float(p99.group(1)) * scale[p99.group(2)] if p99 else float("nan"),
            "raw": out}


# --- waiting and measuring --------------------------------------------------------------
def wait_final(timeout: float) -> float:
    """Until every order is final; returns when that happened (monotonic)."""
    from orders.models import OrderView

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not OrderView.objects.exclude(status__in=FINAL).exists():
            return time.monotonic()
        time.sleep(0.25)
    left = OrderView.objects.exclude(status__in=FINAL).count()
    raise SystemExit(f"{left} orders still not final after {timeout}s")


def wait_relayed(timeout: float) -> int:
    """Until the outbox relay has published every stored event (its work belongs to the
    orders' cost); returns how many were still waiting when the wait began."""
    from commerce.eventstore.models import OutboxMessage

    pending = OutboxMessage.objects.filter(published_at__isnull=True)
    waiting = pending.count()
    deadline = time.monotonic() + timeout
    while pending.exists():
        if time.monotonic() > deadline:
            raise SystemExit(f"{pending.count()} events still not relayed after {timeout}s")
        time.sleep(0.25)
    return waiting


def confirmation_times(since) -> tuple[list[float], float]:
    """Placement → confirmed latencies (ms) of orders placed since `since`, and the span
    (s) from the first placement to the last confirmation."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT p.created_at, c.created_at FROM events p
              JOIN events c ON c.aggregate_id = p.aggregate_id
                           AND c.event_type = 'OrderConfirmed'
             WHERE p.event_type = 'OrderPlaced' AND p.created_at >= %s""", [since])
        rows = cursor.fetchall()
    if not rows:
        return [], 0.0
    latencies = [(c - p).total_seconds() * 1000 for p, c in rows]
    span = (max(c for _, c in rows) - min(p for p, _ in rows)).total_seconds()
    return latencies, span


def order_counts(since) -> dict[str, int]:
    from django.db.models import Count

    from orders.models import OrderView

    return dict(OrderView.objects.filter(created_at__gte=since).values_list("status")
                .annotate(n=Count("order_id")).values_list("status", "n"))


def now():
    from django.utils import timezone

    return timezone.now()
