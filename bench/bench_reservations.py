"""Reservation throughput: many concurrent clients reserving stock on one hot sku and on
many skus, against the real PostgreSQL of DATABASE_URL (use a scratch database: the run
leaves its items and reservations behind, under a unique `BENCH-<run>-` sku prefix).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/commerce_bench \\
        python bench/bench_reservations.py --clients 16 --seconds 5 --scenario both

Prints, per scenario: reservations/s, latency percentiles, refusals for insufficient stock
("conflicts"), version-conflict retries (expected 0: every reservation has its own stream)
and unexpected errors (expected 0: no deadlocks)."""

import argparse
import os
import random
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import percentile  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commerce.settings.local")


def _setup() -> None:
    import logging

    import django

    django.setup()
    logging.disable(logging.WARNING)  # no per-request log lines in the measurement


def run_scenario(*, name: str, skus: list[str], clients: int, seconds: float,
                 lines_per_order: int) -> dict:
    from django.db import connection

    from commerce.core.errors import ConcurrencyError
    from inventory import services
    from inventory.errors import InsufficientStock

    lock = threading.Lock()
    stats = {"ok": 0, "conflicts": 0, "retries": 0, "errors": 0, "latencies": []}
    barrier = threading.Barrier(clients + 1)
    deadline = [0.0]

    def client(seed: int) -> None:
        rng = random.Random(seed)
        ok = conflicts = retries = errors = 0
        latencies = []
        barrier.wait()
        try:
            while time.perf_counter() < deadline[0]:
                picked = rng.sample(skus, min(lines_per_order, len(skus)))
                lines = [{"sku": s, "quantity": 1} for s in picked]
                started = time.perf_counter()
                for attempt in range(3):  # bounded retry for version conflicts only
                    try:
                        services.stock_reserve(order_id=uuid.uuid4(), lines=lines)
                        ok += 1
                        break
                    except InsufficientStock:
                        conflicts += 1
                        break
                    except ConcurrencyError:
                        retries += 1
                        if attempt == 2:
                            errors += 1
                    except Exception:  # deadlock, constraint violation…: must stay 0
                        errors += 1
                        break
                latencies.append(time.perf_counter() - started)
        finally:
            connection.close()
        with lock:
            stats["ok"] += ok
            stats["conflicts"] += conflicts
            stats["retries"] += retries
            stats["errors"] += errors
            stats["latencies"].extend(latencies)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    deadline[0] = time.perf_counter() + seconds
    started = time.perf_counter()
    barrier.wait()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    lat = sorted(stats.pop("latencies")) or [0.0]
    return {
        "scenario": name, "clients": clients, "skus": len(skus), "seconds": round(elapsed, 2),
        **stats,
        "reservations_per_s": round(stats["ok"] / elapsed, 1),
        "p50_ms": round(statistics.median(lat) * 1000, 1),
        "p95_ms": round(percentile(lat, 95) * 1000, 1),
    }


def make_skus(prefix: str, count: int, stock: int) -> list[str]:
    from inventory.services import item_create

    skus = [f"{prefix}{i:04d}" for i in range(count)]
    for sku in skus:
        item_create(sku=sku, product_id=uuid.uuid4(), name=f"bench {sku}", price="1.00",
                    total_quantity=stock)
    return skus


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8, help="concurrent client threads")
    parser.add_argument("--seconds", type=float, default=3.0, help="duration per scenario")
    parser.add_argument("--scenario", choices=["hot", "many", "both"], default="both")
    parser.add_argument("--skus", type=int, default=50, help="skus in the 'many' scenario")
    parser.add_argument("--lines", type=int, default=1, help="lines per order ('many')")
    parser.add_argument("--stock", type=int, default=1_000_000,
                        help="units per sku (small values measure refusals)")
    args = parser.parse_args(argv)
    _setup()

    run = uuid.uuid4().hex[:8]
    results = []
    if args.scenario in ("hot", "both"):
        skus = make_skus(f"BENCH-{run}-HOT-", 1, args.stock)
        results.append(run_scenario(name="hot sku", skus=skus, clients=args.clients,
                                    seconds=args.seconds, lines_per_order=1))
    if args.scenario in ("many", "both"):
        skus = make_skus(f"BENCH-{run}-MANY-", args.skus, args.stock)
        results.append(run_scenario(name=f"{args.skus} skus", skus=skus, clients=args.clients,
                                    seconds=args.seconds, lines_per_order=args.lines))
    header = ["scenario", "clients", "skus", "ok", "reservations_per_s", "p50_ms", "p95_ms",
              "conflicts", "retries", "errors"]
    print(" | ".join(f"{h:>18}" for h in header))
    for r in results:
        print(" | ".join(f"{r[h]!s:>18}" for h in header))
    return results


if __name__ == "__main__":
    outcome = main()
    sys.exit(1 if any(r["errors"] for r in outcome) else 0)
