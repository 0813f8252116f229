"""A real Prometheus against `make run`: scrapes its /metrics, evaluates every rule in
alerts.yml a few times, and reports each rule's health. Exit status 1 if the target is down
or any rule fails to evaluate.

    make run                                    # in one terminal
    python deploy/prometheus/check_local.py     # in another (PORT=8000 by default)

Needs the `prometheus` binary (Debian/Ubuntu: `apt-get install prometheus`, which also
brings promtool). Everything it starts listens on 127.0.0.1 and is stopped at the end."""

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

RULES = Path(__file__).resolve().parent / "alerts.yml"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--target", default=f"127.0.0.1:{os.environ.get('PORT', '8000')}",
                        help="host:port of make run's web process (its /metrics adds up "
                             "every process)")
    parser.add_argument("--seconds", type=float, default=40,
                        help="how long to let Prometheus scrape and evaluate")
    args = parser.parse_args()

    binary = shutil.which("prometheus")
    if binary is None:
        print("prometheus not found: apt-get install prometheus", file=sys.stderr)
        return 2
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="commerce-prometheus-") as workdir:
        config = Path(workdir) / "prometheus.yml"
        config.write_text(json.dumps({  # JSON is YAML
            "global": {"scrape_interval": "5s", "evaluation_interval": "5s"},
            "rule_files": [str(RULES)],
            "scrape_configs": [{"job_name": "commerce", "metrics_path": "/metrics",
                                "static_configs": [{"targets": [args.target]}]}],
        }))
        server = subprocess.Popen(
            [binary, f"--config.file={config}", f"--storage.tsdb.path={workdir}/data",
             f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        base = f"http://127.0.0.1:{port}/api/v1"
        try:
            print(f"Prometheus on 127.0.0.1:{port} scraping {args.target} for "
                  f"{args.seconds:.0f}s …", flush=True)
            time.sleep(args.seconds)
            if server.poll() is not None:
                print(server.stderr.read().decode(), file=sys.stderr)
                return 1
            targets = get(f"{base}/targets")["data"]["activeTargets"]
            rules = [rule for group in get(f"{base}/rules")["data"]["groups"]
                     for rule in group["rules"]]
        finally:
            server.terminate()
            server.wait(30)

    failed = False
    for target in targets:
        print(f"target {target['scrapeUrl']}: {target['health']} "
              f"{target.get('lastError') or ''}".rstrip())
        failed |= target["health"] != "up"
    errors = [r for r in rules if r.get("health") != "ok" or r.get("lastError")]
    firing = [r["name"] for r in rules if r.get("type") == "alerting" and r.get("state")
              in ("pending", "firing")]
    print(f"{len(rules)} rules evaluated: {len(rules) - len(errors)} ok, {len(errors)} with "
          f"errors; pending or firing now: {', '.join(firing) or 'none'}")
    for rule in errors:
        print(f"  ERROR {rule['name']}: {rule.get('health')} {rule.get('lastError', '')}")
    return 1 if failed or errors or not rules else 0


if __name__ == "__main__":
    sys.exit(main())
