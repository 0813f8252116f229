"""Order placement through the real HTTP API: N concurrent clients POST /api/v1/orders/
(JWT, Idempotency-Key, catalog prices) against gunicorn, then pgbench TPC-B on the same
PostgreSQL server as a reference for what the machine can do.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/commerce_bench \\
        python bench/bench_orders.py --clients 16 --seconds 10 --workers 4 --threads 2

Use a scratch database: the run migrates it and leaves its users, items and orders behind
(items under a unique `OB-<run>-` sku prefix). pgbench runs in `<db>_pgbench`, created and
initialised on first use. Prints orders/s, p50/p95/p99 latency, the status codes seen, and
pgbench's tps. Any non-201 answer is counted as an error (expected 0)."""

import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import percentile, run_pgbench  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commerce.settings.local")

ADDRESS = {"name": "Bench Client", "line1": "1 Load Street", "city": "Berlin",
           "postal_code": "10115", "country": "DE"}


def prepare(*, clients: int, skus: int) -> tuple[list[str], list[str]]:
    """Migrate, create catalog items and one customer per client; return (skus, tokens)."""
    subprocess.run([sys.executable, str(ROOT / "scripts" / "ensure_database.py")], check=True)
    import django

    django.setup()
    import logging

    from django.core.management import call_command

    logging.disable(logging.WARNING)
    call_command("migrate", verbosity=0)
    from rest_framework_simplejwt.tokens import RefreshToken

    from commerce.accounts.services import user_register
    from inventory.services import item_create

    run = uuid.uuid4().hex[:6]
    sku_list = []
    for i in range(skus):
        sku = f"OB-{run}-{i:03d}"
        item_create(sku=sku, product_id=uuid.uuid4(), name=f"Bench item {i}",
                    price=f"{5 + i % 20}.99", total_quantity=1_000_000)
        sku_list.append(sku)
    tokens = []
    for i in range(clients):
        user = user_register(email=f"bench-{run}-{i}@example.com", password="bench-pass-2026!")
        tokens.append(str(RefreshToken.for_user(user).access_token))
    from django.db import connection

    connection.close()
    return sku_list, tokens


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(*, port: int, workers: int, threads: int) -> subprocess.Popen:
    env = {**os.environ, "DJANGO_DEBUG": "false", "LOG_LEVEL": "WARNING",
           "DJANGO_SETTINGS_MODULE": "commerce.settings.local"}
    gunicorn = shutil.which("gunicorn") or str(Path(sys.executable).parent / "gunicorn")
    proc = subprocess.Popen(
        [gunicorn, "commerce.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--threads", str(threads), "--log-level", "warning"],
        cwd=ROOT, env=env, start_new_session=True)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("gunicorn did not start")


def run_clients(*, port: int, tokens: list[str], skus: list[str], seconds: float,
                lines: int) -> dict:
    latencies: list[float] = []
    statuses: Counter = Counter()
    lock = threading.Lock()
    barrier = threading.Barrier(len(tokens) + 1)
    stop_at = [0.0]

    def client(i: int, token: str) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine, codes = [], Counter()
        barrier.wait()
        n = 0
        while time.perf_counter() < stop_at[0]:
            picked = [skus[(i * 7 + n + k) % len(skus)] for k in range(lines)]
            body = json.dumps({"lines": [{"sku": s, "quantity": 1 + k % 3}
                                         for k, s in enumerate(dict.fromkeys(picked))],
                               "shipping_address": ADDRESS, "payment_method": "pm_card_visa"})
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                       "Idempotency-Key": str(uuid.uuid4())}
            started = time.perf_counter()
            try:
                conn.request("POST", "/api/v1/orders/", body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                codes[response.status] += 1
            except (OSError, http.client.HTTPException) as exc:
                codes[type(exc).__name__] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            mine.append(time.perf_counter() - started)
            n += 1
        conn.close()
        with lock:
            latencies.extend(mine)
            statuses.update(codes)

    threads = [threading.Thread(target=client, args=(i, t)) for i, t in enumerate(tokens)]
    for t in threads:
        t.start()
    stop_at[0] = time.perf_counter() + seconds
    started = time.perf_counter()
    barrier.wait()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    return {"latencies": latencies, "statuses": statuses, "elapsed": elapsed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1),
                        help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=2, help="threads per worker")
    parser.add_argument("--lines", type=int, default=2, help="lines per order")
    parser.add_argument("--skus", type=int, default=50)
    parser.add_argument("--pgbench-seconds", type=int, default=10)
    parser.add_argument("--pgbench-scale", type=int, default=10)
    args = parser.parse_args()

    skus, tokens = prepare(clients=args.clients, skus=args.skus)
    port = free_port()
    server = start_gunicorn(port=port, workers=args.workers, threads=args.threads)
    try:
        run_clients(port=port, tokens=tokens[:2], skus=skus, seconds=1, lines=args.lines)  # warm
        result = run_clients(port=port, tokens=tokens, skus=skus, seconds=args.seconds,
                             lines=args.lines)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)
    lat = sorted(result["latencies"])
    ok = result["statuses"].get(201, 0)
    errors = sum(n for code, n in result["statuses"].items() if code != 201)
    print(f"orders: {args.clients} clients, {args.seconds:.0f}s, gunicorn {args.workers}x"
          f"{args.threads}, {args.lines} lines/order")
    print(f"  placed {ok} orders in {result['elapsed']:.1f}s = {ok / result['elapsed']:.1f} "
          f"orders/s; errors {errors} {dict(result['statuses'])}")
    print(f"  latency ms: p50 {percentile(lat, 50) * 1000:.1f}  "
          f"p95 {percentile(lat, 95) * 1000:.1f}  p99 {percentile(lat, 99) * 1000:.1f}  "
          f"mean {statistics.fmean(lat) * 1000:.1f}")
    tps = run_pgbench(clients=args.clients, seconds=args.pgbench_seconds,
                      scale=args.pgbench_scale)
    if tps is not None:
        print(f"pgbench TPC-B on the same server: {tps:.1f} tps "
              f"({args.clients} clients, {args.pgbench_seconds}s, scale {args.pgbench_scale})")


if __name__ == "__main__":
    main()
