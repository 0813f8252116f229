"""Cart storage benchmark: atomic Lua writes and reads against the configured Redis.

    REDIS_URL=redis://127.0.0.1:6379/3 python bench/cart_bench.py [--ops 2000] [--threads 4]

Measures the Redis side of the cart (the catalog lookup in PostgreSQL is one indexed query
and is measured by the inventory benchmarks). Uses throw-away cart ids and deletes them."""

import argparse
import os
import sys
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import percentile  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commerce.settings.local")

import django  # noqa: E402

django.setup()

from cart import store  # noqa: E402


def run(name: str, ops: int, threads: int, fn) -> None:
    per_thread = ops // threads
    timings: list[float] = []
    lock = threading.Lock()

    def worker(t: int) -> None:
        local = []
        for i in range(per_thread):
            start = time.perf_counter()
            fn(t, i)
            local.append(time.perf_counter() - start)
        with lock:
            timings.extend(local)

    started = time.perf_counter()
    pool = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    for th in pool:
        th.start()
    for th in pool:
        th.join()
    elapsed = time.perf_counter() - started
    print(f"{name:<28} {len(timings):>6} ops  {len(timings) / elapsed:>8.0f} ops/s  "
          f"p50 {percentile(timings, 50) * 1000:.2f} ms  "
          f"p99 {percentile(timings, 99) * 1000:.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ops", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    carts = [f"bench:{uuid.uuid4()}" for _ in range(args.threads)]
    shared = f"bench:{uuid.uuid4()}"

    def add_own(t, i):
        store.add(carts[t], owner="bench", must_exist=False, sku=f"SKU-{i % 40}", quantity=1,
                  price="9.99", max_lines=50, max_quantity=10**6)

    def add_shared(t, i):
        store.add(shared, owner="bench", must_exist=False, sku=f"SKU-{i % 40}", quantity=1,
                  price="9.99", max_lines=50, max_quantity=10**6)

    try:
        run("add (own cart per thread)", args.ops, args.threads, add_own)
        run("add (one shared cart)", args.ops, args.threads, add_shared)
        run("read (40 lines)", args.ops, args.threads, lambda t, i: store.read(shared))
    finally:
        for cart_id in [*carts, shared]:
            store.delete(cart_id)


if __name__ == "__main__":
    main()
