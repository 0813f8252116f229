"""What every benchmark shares."""

import math
import os
import re
import shutil
import subprocess
from pathlib import Path


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile, p in [0, 100], of unsorted values (nan when empty)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def run_pgbench(*, clients: int, seconds: int, scale: int) -> float | None:
    pgbench = shutil.which("pgbench") or "/usr/bin/pgbench"
    if not Path(pgbench).exists():
        print("pgbench not found; skipping the reference run")
        return None
    url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/commerce")
    db = url.rsplit("/", 1)[1].split("?")[0] + "_pgbench"
    bench_url = url.rsplit("/", 1)[0] + "/" + db
    import psycopg
    from psycopg import sql

    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname=%s", [db]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db)))
    with psycopg.connect(bench_url) as conn:
        initialised = conn.execute(
            "SELECT to_regclass('pgbench_branches') IS NOT NULL").fetchone()[0]
    if not initialised:
        subprocess.run([pgbench, "-i", "-q", "-s", str(scale), bench_url], check=True,
                       capture_output=True)
    out = subprocess.run([pgbench, "-n", "-c", str(clients), "-j", "2", "-T", str(seconds),
                          bench_url], check=True, capture_output=True, text=True).stdout
    match = re.search(r"tps = ([\d.]+) \(without initial connection time\)", out)
    return float(match.group(1)) if match else None
