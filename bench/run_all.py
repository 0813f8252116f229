"""Run every benchmark once, briefly, against a scratch database and a scratch Redis
database (never a developer's: the saga benchmark purges its broker queue).

    make bench                       # or: python bench/run_all.py
    BENCH_DATABASE_URL=... BENCH_REDIS_URL=... python bench/run_all.py --only orders

Each benchmark prints its own figures; README "Benchmarks" explains them."""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL",
                              "postgres://postgres@127.0.0.1:5432/commerce_bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")

BENCHMARKS = {
    "pipeline": ["bench/bench_pipeline.py", "--duration", "20"],  # the one that counts
    "reservations": ["bench/bench_reservations.py", "--clients", "8", "--seconds", "3"],
    "orders": ["bench/bench_orders.py", "--clients", "8", "--seconds", "10",
               "--pgbench-seconds", "10"],
    "sagas": ["bench/bench_sagas.py", "--orders", "100"],  # a burst: throughput
    "sagas-paced": ["bench/bench_sagas.py", "--orders", "50", "--rate", "5"],  # latency
    "cart": ["bench/cart_bench.py", "--ops", "2000", "--threads", "4"],
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=sorted(BENCHMARKS), action="append")
    args = parser.parse_args()
    env = {**os.environ, "DATABASE_URL": DATABASE_URL, "REDIS_URL": REDIS_URL,
           "DJANGO_SETTINGS_MODULE": "commerce.settings.local", "LOG_LEVEL": "WARNING"}
    for cmd in (["scripts/ensure_database.py"], ["manage.py", "migrate", "--noinput", "-v", "0"]):
        subprocess.run([sys.executable, *cmd], cwd=ROOT, env=env, check=True)
    failed = []
    for name in args.only or BENCHMARKS:
        print(f"\n=== {name} " + "=" * (60 - len(name)), flush=True)
        started = time.monotonic()
        result = subprocess.run([sys.executable, *BENCHMARKS[name]], cwd=ROOT, env=env)
        print(f"--- {name}: {time.monotonic() - started:.0f}s, exit {result.returncode}")
        if result.returncode:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
