"""End-to-end pipeline benchmark: orders placed over HTTP and carried through the
fulfilment saga to confirmed, with the CPU each one costs the whole machine.

    python bench/bench_pipeline.py [--workers 2] [--clients 32] [--duration 60]
                                   [--gateway-latency-ms 100] [--drain N]

On a scratch database (`BENCH_DATABASE_URL`, recreated) and Redis db (`BENCH_REDIS_URL`,
flushed), production settings: starts the payment processor simulator (answering each call
after --gateway-latency-ms), gunicorn (deploy/gunicorn.conf.py), beat and --workers Celery
worker processes; creates a catalog (many skus and one hot sku) and customers with JWTs.

Default run, one `name=value` line per figure:
1. pipeline: wrk drives `POST /api/v1/orders/` (JWT, Idempotency-Key) with --clients
   connections for --duration s while the workers run the sagas; then waits until every
   order is final. placed_per_s, confirmed_per_s, p50_ms/p99_ms (placement → confirmed,
   from the events' timestamps), cpu_ms_per_order (busy time of the whole machine from
   /proc/stat over the run ÷ confirmed orders: PostgreSQL, Redis, the simulator and wrk
   included), errors (non-2xx, socket errors, failed orders).
2. placement alone: workers stopped, wrk for 15 s: placement_only_per_s, placement_p99_ms;
   then the workers drain that backlog: drained_per_s.
3. references from the same run: bare_django_per_s (bench/bare_app.py: the four statements
   a placement needs at the least, gunicorn 4 sync workers, same wrk) and pgbench_tps.
4. sql_per_order (statements per order: placement, saga, outbox relay), and the checks:
   inventory_drifts and replay_differences (both must be 0).

`--drain N` instead: places N orders with the workers stopped, then starts them and prints
drained_per_s (run it with --workers 1 and --workers 2 to see the scale-out).
Needs `wrk` (installed with apt-get when missing and run as root) and, for the reference,
`pgbench`."""

import argparse
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL",
                              "postgres://postgres@127.0.0.1:5432/commerce_bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")
SIM_PORT = int(os.environ.get("BENCH_SIMULATOR_PORT", "8191"))
ENV = {
    "DJANGO_SETTINGS_MODULE": "commerce.settings.production",
    "DATABASE_URL": DATABASE_URL, "REDIS_URL": REDIS_URL,
    "DJANGO_SECRET_KEY": "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
    "DJANGO_SECURE_SSL_REDIRECT": "false",
    "PAYMENT_API_KEY": "sk_test_commerce_local_simulator",
    "SMS_AUTH_TOKEN": "bench", "PUSH_API_TOKEN": "bench", "PUSH_RECEIPT_SECRET": "bench",
    "EMAIL_RECEIPT_SECRET": "bench", "PUBLIC_BASE_URL": "http://127.0.0.1:8190",
    "PAYMENT_API_BASE_URL": f"http://127.0.0.1:{SIM_PORT}",
    "JWT_ACCESS_MINUTES": "600", "LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1",
}
os.environ.update(ENV)

from bench.common import percentile, run_pgbench  # noqa: E402

FINAL = ("confirmed", "failed", "cancelled")
ADDRESS = {"name": "Bench", "line1": "1 Main St", "city": "Springfield",
           "postal_code": "12345", "country": "US"}


def emit(name: str, value) -> None:
    print(f"{name}={value:.1f}" if isinstance(value, float) else f"{name}={value}",
          flush=True)


# --- the machine -----------------------------------------------------------------------
def busy_jiffies() -> int:
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, idle, iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return user + nice + system + irq + softirq + steal


JIFFY_MS = 1000 / os.sysconf("SC_CLK_TCK")


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
                        "--workers", str(workers), "--threads", str(threads),
                        "--access-logfile", "/dev/null"])
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
def recreate_database() -> None:
    import psycopg
    from psycopg import sql

    name = DATABASE_URL.rsplit("/", 1)[1]
    with psycopg.connect(DATABASE_URL.rsplit("/", 1)[0] + "/postgres", autocommit=True) as c:
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
    from bench.bare_app import TABLES

    with connection.cursor() as cursor:
        cursor.execute(TABLES)
        cursor.executemany("INSERT INTO bench_bare_stock VALUES (%s, 10000000, 0)",
                           [[s] for s in [*names, hot]])
    return names, tokens, hot


WRK_SCRIPT = """
local bodies = {%(bodies)s}
local tokens = {%(tokens)s}
local counter = 0
function setup(thread)
  thread:set("tid", math.random(1, 1000000000))
end
function request()
  counter = counter + 1
  local body = bodies[(counter %% #bodies) + 1]
  local token = tokens[(counter %% #tokens) + 1]
  return wrk.format("POST", "/api/v1/orders/", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
    ["Idempotency-Key"] = tid .. "-" .. counter}, body)
end
"""


def wrk_script(workdir: Path, names: list[str], tokens: list[str], hot: str) -> Path:
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
    path = workdir / "orders.lua"
    path.write_text(WRK_SCRIPT % {"bodies": lua(bodies), "tokens": lua(tokens)})
    return path


def run_wrk(port: int, script: Path, *, clients: int, seconds: float) -> dict:
    out = subprocess.run(
        ["wrk", "-t2", f"-c{clients}", f"-d{int(seconds)}s", "--latency", "--timeout", "10s",
         "-s", str(script), f"http://127.0.0.1:{port}/api/v1/orders/"],
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


def sql_per_order(names: list[str], tokens: list[str], *, orders: int = 20) -> dict:
    """Statements per order, counted in this process on the same code paths: the placement
    request (test client, JWT), the saga (one run of the runner) and the outbox relay."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    from commerce.eventstore.outbox import relay_all
    from sagas.runner import run_due

    client = APIClient()
    counts = {}
    with CaptureQueriesContext(connection) as placing:
        for n in range(orders):
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens[n % len(tokens)]}",
                               HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))
            response = client.post("/api/v1/orders/", {
                "lines": [{"sku": names[n], "quantity": 1}], "shipping_address": ADDRESS,
                "payment_method": "pm_card_visa"}, format="json")
            assert response.status_code == 201, response.content
    counts["placement"] = len(placing) / orders
    with CaptureQueriesContext(connection) as saga:
        run_due()
    counts["saga"] = len(saga) / orders
    with CaptureQueriesContext(connection) as relay:
        relay_all()
    counts["relay"] = len(relay) / orders
    return counts


def verify() -> tuple[int, int]:
    import io

    from django.core.management import call_command
    from django.core.management.base import CommandError

    out = io.StringIO()
    try:
        call_command("inventory_verify", stdout=out)
        drifts = 0
    except CommandError:
        drifts = int(re.search(r"(\d+) drift", out.getvalue()).group(1))
    out = io.StringIO()
    try:
        call_command("replay_events", "--verify", stdout=out)
        differences = 0
    except SystemExit:
        found = re.search(r"(\d+) difference", out.getvalue())
        differences = int(found.group(1)) if found else -1
    return drifts, differences


def place_directly(names: list[str], count: int) -> None:
    """--drain: the backlog, placed through the service (no HTTP: it is not measured)."""
    from commerce.accounts.models import User
    from orders.services import order_place

    customers = list(User.objects.values_list("id", flat=True))
    rng = random.Random(11)
    for n in range(count):
        order_place(customer_id=customers[n % len(customers)],
                    lines=[{"sku": rng.choice(names), "quantity": 1}],
                    shipping_address=ADDRESS, payment_method="pm_card_visa")


def drain(procs: Processes, workers: int, timeout: float) -> float:
    from orders.models import OrderView

    backlog = OrderView.objects.exclude(status__in=FINAL).count()
    started = time.monotonic()
    start_workers(procs, workers)
    finished = wait_final(timeout)
    procs.stop(*[f"worker{i}" for i in range(workers)])
    return backlog / (finished - started) if backlog else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2, help="Celery worker processes")
    parser.add_argument("--clients", type=int, default=32, help="wrk connections")
    parser.add_argument("--duration", type=float, default=60, help="seconds of load")
    parser.add_argument("--gateway-latency-ms", type=int, default=100)
    parser.add_argument("--drain", type=int, default=0, metavar="N",
                        help="only the backlog mode: place N orders, then drain them")
    parser.add_argument("--web-workers", type=int, default=int(os.environ.get(
        "WEB_WORKERS", "4")))
    parser.add_argument("--web-threads", type=int, default=int(os.environ.get(
        "WEB_THREADS", "1")))
    parser.add_argument("--skus", type=int, default=200)
    parser.add_argument("--timeout", type=float, default=600,
                        help="seconds to wait for every order to be final")
    args = parser.parse_args()
    if need("wrk", "wrk") is None and not args.drain:
        print("wrk is required (apt-get install wrk)", file=sys.stderr)
        return 2

    recreate_database()
    import django

    django.setup()
    names, tokens, hot = prepare(customers=64, skus=args.skus)
    workdir = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    print(f"logs: {workdir}", flush=True)
    procs = Processes(workdir)
    port = 8190
    try:
        procs.start("simulator", [sys.executable, "-m", "simulators", "payments"],
                    PAYMENT_SIMULATOR_PORT=SIM_PORT,
                    PAYMENT_SIMULATOR_LATENCY_MS=args.gateway_latency_ms)
        wait_http(f"{ENV['PAYMENT_API_BASE_URL']}/_sim/stats", 20)
        procs.start("beat", [sys.executable, "-m", "celery", "-A", "commerce", "beat",
                             "-l", "WARNING", "--schedule", str(workdir / "beat-schedule")])
        if args.drain:
            place_directly(names, args.drain)
            emit("drained_per_s", drain(procs, args.workers, args.timeout))
            emit("orders", args.drain)
        else:
            pipeline(args, procs, port, names, tokens, hot, workdir)
        drifts, differences = verify()
        emit("inventory_drifts", drifts)
        emit("replay_differences", differences)
    finally:
        procs.stop()
    return 0


def pipeline(args, procs: Processes, port: int, names, tokens, hot, workdir: Path) -> None:
    script = wrk_script(workdir, names, tokens, hot)
    start_web(procs, port, app="commerce.wsgi:application", workers=args.web_workers,
              threads=args.web_threads)
    start_workers(procs, args.workers)
    run_wrk(port, script, clients=4, seconds=2)  # warm up every process
    wait_final(args.timeout)

    # 1. the pipeline under load
    since, cpu0, t0 = now(), busy_jiffies(), time.monotonic()
    load = run_wrk(port, script, clients=args.clients, seconds=args.duration)
    wait_final(args.timeout)
    cpu1 = busy_jiffies()
    latencies, span = confirmation_times(since)
    counts = order_counts(since)
    confirmed = counts.get("confirmed", 0)
    emit("placed_per_s", load["rate"])
    emit("confirmed_per_s", confirmed / span if span else 0.0)
    emit("p50_ms", percentile(latencies, 50))
    emit("p99_ms", percentile(latencies, 99))
    emit("cpu_ms_per_order", (cpu1 - cpu0) * JIFFY_MS / max(confirmed, 1))
    emit("errors", load["errors"] + sum(n for s, n in counts.items() if s != "confirmed"))
    emit("wall_s", time.monotonic() - t0)

    # 2. placement alone, then the workers drain what it placed
    procs.stop(*[f"worker{i}" for i in range(args.workers)])
    alone = run_wrk(port, script, clients=args.clients, seconds=15)
    emit("placement_only_per_s", alone["rate"])
    emit("placement_p99_ms", alone["p99_ms"])
    emit("drained_per_s", drain(procs, args.workers, args.timeout))
    counts_sql = sql_per_order(names, tokens)
    for part, value in counts_sql.items():
        emit(f"sql_per_order_{part}", value)
    emit("sql_per_order", sum(counts_sql.values()))
    procs.stop("web")

    # 3. references from the same run
    start_web(procs, port, app="bench.bare_app:application", workers=4, threads=1)
    bare = run_wrk(port, script, clients=args.clients, seconds=15)
    emit("bare_django_per_s", bare["rate"])
    emit("placement_vs_bare", alone["rate"] / bare["rate"] if bare["rate"] else 0.0)
    procs.stop("web")
    if need("pgbench", "postgresql-client"):
        tps = run_pgbench(clients=8, seconds=15, scale=10)
        emit("pgbench_tps", tps if tps is not None else float("nan"))


if __name__ == "__main__":
    sys.exit(main())
