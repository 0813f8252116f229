"""End-to-end pipeline benchmark: orders placed over HTTP and carried through the
fulfilment saga to confirmed, with the CPU each one costs the whole machine.

    python bench/bench_pipeline.py [--workers 2] [--clients 32] [--duration 60]
                                   [--gateway-latency-ms 100] [--drain N]

On a scratch database (`BENCH_DATABASE_URL`, recreated) and Redis db (`BENCH_REDIS_URL`,
flushed), production settings: starts the payment processor simulator (answering each call
after --gateway-latency-ms), gunicorn (deploy/gunicorn.conf.py), beat, the outbox relay and
--workers Celery worker processes; creates a catalog (many skus and one hot sku) and
customers with JWTs.

Default run, one `name=value` line per figure:
1. pipeline: wrk drives `POST /api/v1/orders/` (JWT, Idempotency-Key) with --clients
   connections for --duration s while the workers run the sagas; then waits until every
   order is final. placed_per_s, confirmed_per_s, p50_ms/p99_ms (placement → confirmed,
   from the events' timestamps), cpu_ms_per_order (busy time of the whole machine from
   /proc/stat over the run ÷ confirmed orders: PostgreSQL, Redis, the simulator and wrk
   included; measured once every order is final and every event relayed), errors (non-2xx,
   socket errors, failed orders).
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
import resource
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
    # A host name, as a real processor has (an IP literal costs httpx an address parse per
    # request that production never pays); the simulator listens on 127.0.0.1.
    "PAYMENT_API_BASE_URL": f"http://localhost:{SIM_PORT}",
    "JWT_ACCESS_MINUTES": "600", "LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1",
}
os.environ.update(ENV)

from bench.common import percentile, run_pgbench  # noqa: E402
from bench.pipeline_support import (  # noqa: E402
    ADDRESS,
    FINAL,
    JIFFY_MS,
    CpuAccount,
    Processes,
    busy_jiffies,
    confirmation_times,
    need,
    now,
    order_counts,
    prepare,
    recreate_database,
    run_wrk,
    start_web,
    start_workers,
    wait_final,
    wait_http,
    wait_relayed,
    wrk_script,
)


def emit(name: str, value) -> None:
    print(f"{name}={value:.1f}" if isinstance(value, float) else f"{name}={value}",
          flush=True)


def sql_per_order(names: list[str], tokens: list[str], *, orders: int = 20) -> dict:
    """Statements per order, counted in this process on the same code paths: the placement
    request (test client, JWT), the saga (one run of the runner) and the outbox relay."""
    from django.db import connection
    from rest_framework.test import APIClient

    from commerce.eventstore.outbox import relay_all
    from sagas.runner import run_due

    statements = [0]

    def count(execute, sql, params, many, context):
        statements[0] += 1
        return execute(sql, params, many, context)

    def counted(fn) -> float:
        statements[0] = 0
        with connection.execute_wrapper(count):
            fn()
        return statements[0] / orders

    client = APIClient()

    def place():
        for n in range(orders):
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens[n % len(tokens)]}",
                               HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))
            response = client.post("/api/v1/orders/", {
                "lines": [{"sku": names[n], "quantity": 1}], "shipping_address": ADDRESS,
                "payment_method": "pm_card_visa"}, format="json")
            assert response.status_code == 201, response.content

    return {"placement": counted(place), "saga": counted(run_due), "relay": counted(relay_all)}


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


def postgres_backends() -> set[int]:
    """The PostgreSQL backends serving the benchmark's database now."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        return {pid for (pid,) in cursor.fetchall()}


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
    parser.add_argument("--rate", type=float, default=0,
                        help="orders/s to offer (paced wrk connections) instead of as many as "
                             "the service takes: latency below saturation")
    parser.add_argument("--drain", type=int, default=0, metavar="N",
                        help="only the backlog mode: place N orders, then drain them")
    # Two sync processes: on this 2-core machine, shared with the workers and PostgreSQL,
    # they cost the least CPU per order (docs/performance.md, step 6).
    parser.add_argument("--web-workers", type=int, default=int(os.environ.get(
        "WEB_WORKERS", "2")))
    parser.add_argument("--web-threads", type=int, default=int(os.environ.get(
        "WEB_THREADS", "1")))
    parser.add_argument("--skus", type=int, default=200)
    parser.add_argument("--timeout", type=float, default=600,
                        help="seconds to wait for every order to be final")
    args = parser.parse_args()
    if need("wrk", "wrk") is None and not args.drain:
        print("wrk is required (apt-get install wrk)", file=sys.stderr)
        return 2

    recreate_database(DATABASE_URL)
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
        # The dedicated outbox relay, as deployed (deploy/supervisord.conf, k8s relay.yaml).
        procs.start("relay", [sys.executable, "manage.py", "relay_outbox", "--interval", "0.5"])
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
    paced = wrk_script(workdir / "paced", names, tokens, hot,
                       delay_ms=int(args.clients * 1000 / args.rate)) if args.rate else script
    start_web(procs, port, app="commerce.wsgi:application", workers=args.web_workers,
              threads=args.web_threads)
    start_workers(procs, args.workers)
    run_wrk(port, script, clients=4, seconds=2)  # warm up every process
    wait_final(args.timeout)

    # 1. the pipeline under load
    account = CpuAccount()
    backends = postgres_backends()
    wrk_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    account.begin()
    since, cpu0, t0 = now(), busy_jiffies(), time.monotonic()
    load = run_wrk(port, paced, clients=args.clients, seconds=args.duration)
    wrk_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    wait_final(args.timeout)
    unrelayed = wait_relayed(args.timeout)  # the relay's CPU counts too
    cpu1 = busy_jiffies()
    ours = account.spent({
        "web": [procs.procs["web"].pid],
        "workers": [procs.procs[f"worker{i}"].pid for i in range(args.workers)],
        "beat": [procs.procs["beat"].pid], "relay": [procs.procs["relay"].pid],
        "simulator": [procs.procs["simulator"].pid],
        "postgres": sorted(backends | postgres_backends())})
    ours["wrk"] = 1000 * (wrk_after.ru_utime + wrk_after.ru_stime
                          - wrk_before.ru_utime - wrk_before.ru_stime)
    latencies, span = confirmation_times(since)
    counts = order_counts(since)
    confirmed = counts.get("confirmed", 0)
    emit("placed_per_s", load["rate"])
    emit("confirmed_per_s", confirmed / span if span else 0.0)
    emit("p50_ms", percentile(latencies, 50))
    emit("p99_ms", percentile(latencies, 99))
    machine = (cpu1 - cpu0) * JIFFY_MS
    emit("cpu_ms_per_order", machine / max(confirmed, 1))
    emit("cpu_ms_per_order_own_processes", sum(ours.values()) / max(confirmed, 1))
    for name, spent in ours.items():
        emit(f"cpu_ms_per_order_{name}", spent / max(confirmed, 1))
    emit("cpu_ms_per_order_rest_of_machine", (machine - sum(ours.values())) / max(confirmed, 1))
    emit("errors", load["errors"] + sum(n for s, n in counts.items() if s != "confirmed"))
    emit("events_unrelayed_at_last_confirmation", unrelayed)
    emit("wall_s", time.monotonic() - t0)

    # 2. placement alone, then the workers drain what it placed
    procs.stop(*[f"worker{i}" for i in range(args.workers)])
    alone = run_wrk(port, script, clients=args.clients, seconds=15)
    emit("placement_only_per_s", alone["rate"])
    emit("placement_p99_ms", alone["p99_ms"])
    emit("placement_only_errors", alone["errors"])
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
    emit("bare_django_errors", bare["errors"])
    emit("placement_vs_bare", alone["rate"] / bare["rate"] if bare["rate"] else 0.0)
    procs.stop("web")
    if need("pgbench", "postgresql-client"):
        tps = run_pgbench(clients=8, seconds=15, scale=10)
        emit("pgbench_tps", tps if tps is not None else float("nan"))


if __name__ == "__main__":
    sys.exit(main())
