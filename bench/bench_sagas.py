"""Saga benchmark: N orders through the whole fulfilment saga with real Celery workers.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/commerce_sagas \
    REDIS_URL=redis://127.0.0.1:6379/4 \
    python bench/bench_sagas.py [--orders 100] [--workers 2] [--concurrency 2] [--rate 0]

Migrates the configured database, creates a throw-away customer and sku, starts `--workers`
worker processes (`celery -A commerce worker`, prefork with `--concurrency` each), places
the orders through `orders.services.order_place` (the OrderPlaced policy starts each saga
and enqueues its first step after commit), waits for every saga to finish and prints:
completed sagas per second (first placement → last completion) and the time from
placement (the saga row commits with OrderPlaced) to confirmation, p50/p99. Workers are
always stopped at the end. Purges the broker queue of the configured Redis first. The
payment processor simulator runs in this process on a free port."""

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import percentile  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commerce.settings.local")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

from commerce.accounts.services import user_register  # noqa: E402
from commerce.celery import app as celery_app  # noqa: E402
from inventory.services import item_create  # noqa: E402
from orders.services import order_place  # noqa: E402
from sagas.flows.fulfilment import SAGA_TYPE  # noqa: E402
from sagas.models import SagaInstance, SagaStatus  # noqa: E402
from simulators.payments import create_app as create_payment_processor  # noqa: E402
from simulators.server import serve_in_thread  # noqa: E402

ADDRESS = {"name": "Bench", "line1": "1 Main St", "city": "Springfield",
           "postal_code": "12345", "country": "US"}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--rate", type=float, default=0,
                        help="orders placed per second (0: all at once, a burst)")
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    celery_app.control.purge()
    customer = user_register(email=f"bench-{uuid.uuid4().hex[:8]}@example.com",
                             password="bench-password-123")
    sku = f"BENCH-{uuid.uuid4().hex[:8]}"
    item_create(sku=sku, product_id=uuid.uuid4(), name="Bench item", price="9.99",
                total_quantity=args.orders * 2)

    log_path = Path(os.environ.get("BENCH_LOG", "/tmp/bench_sagas_workers.log"))
    log = open(log_path, "ab")  # noqa: SIM115 - shared by the worker processes
    print(f"worker logs: {log_path}")
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "commerce", "worker", "-l", "WARNING",
             "-n", f"bench{i}@%h", f"--concurrency={args.concurrency}",
             "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=ROOT, start_new_session=True, stdout=log, stderr=subprocess.STDOUT)
        for i in range(args.workers)
    ]
    try:
        # Start the clock only once every worker answers: boot time is not saga time.
        ready_by = time.monotonic() + 120
        while len(celery_app.control.ping(timeout=1.0) or []) < args.workers:
            if time.monotonic() > ready_by:
                raise SystemExit("workers did not become ready within 120 s")
        print(f"placing {args.orders} orders with {args.workers} worker(s) × "
              f"{args.concurrency} …")
        order_ids = []
        placing = time.perf_counter()
        for n in range(args.orders):
            if args.rate:  # paced: latency below saturation instead of queueing behind a burst
                time.sleep(max(0.0, placing + n / args.rate - time.perf_counter()))
            order = order_place(customer_id=customer.id, lines=[{"sku": sku, "quantity": 1}],
                                shipping_address=ADDRESS, payment_method="pm_card_visa")
            order_ids.append(order.order_id)
        print(f"placed in {time.perf_counter() - placing:.2f} s")
        deadline = time.monotonic() + args.timeout
        sagas = SagaInstance.objects.filter(saga_type=SAGA_TYPE, correlation_id__in=order_ids)
        while time.monotonic() < deadline:
            running = sagas.filter(status__in=[SagaStatus.RUNNING,
                                               SagaStatus.COMPENSATING]).count()
            print(f"\r  {len(order_ids) - running}/{len(order_ids)} sagas finished", end="")
            if running == 0:
                break
            time.sleep(0.5)
        print()
    finally:
        for w in workers:
            os.killpg(w.pid, signal.SIGTERM)
        for w in workers:
            try:
                w.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(w.pid, signal.SIGKILL)

    rows = list(sagas.values("status", "created_at", "finished_at"))
    done = [r for r in rows if r["status"] == SagaStatus.COMPLETED]
    by_status = {s: sum(1 for r in rows if r["status"] == s) for s in {r["status"] for r in rows}}
    print(f"statuses: {by_status}")
    if not done:
        print("no saga completed")
        return
    latencies = [(r["finished_at"] - r["created_at"]).total_seconds() for r in done]
    span = (max(r["finished_at"] for r in done) - min(r["created_at"] for r in rows)
            ).total_seconds()
    print(f"completed sagas/s: {len(done) / span:.1f}  ({len(done)} in {span:.2f} s)")
    print(f"placement → confirmation: p50 {percentile(latencies, 50) * 1000:.0f} ms  "
          f"p99 {percentile(latencies, 99) * 1000:.0f} ms  "
          f"mean {statistics.mean(latencies) * 1000:.0f} ms")


if __name__ == "__main__":
    # The workers' payment gateway calls a processor simulator served by this process
    # (its latency from PAYMENT_SIMULATOR_LATENCY_MS); workers inherit the URL.
    with serve_in_thread(create_payment_processor) as processor:
        os.environ["PAYMENT_API_BASE_URL"] = processor.url
        main()
