"""Heartbeat files for processes that serve no HTTP: a Celery worker, beat, the outbox relay,
stream consumers. The process touches `<LIVENESS_DIR>/<name>` from its main loop; a probe
(Kubernetes exec liveness, compose healthcheck) checks the file is fresh:

    python -m commerce.core.liveness worker --max-age 60

Standard library only, so the probe starts fast and never imports Django."""

import argparse
import os
import sys
import time
from pathlib import Path

DEFAULT_DIR = "/tmp/commerce-liveness"


def path(name: str) -> Path:
    return Path(os.environ.get("LIVENESS_DIR", DEFAULT_DIR)) / name


def touch(name: str) -> None:
    """Record that `name` is alive now. Never raises: a full or read-only disk must not
    stop the process (the probe then fails, which is the truth)."""
    try:
        target = path(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.touch()
    except OSError:
        pass


def age(name: str) -> float | None:
    """Seconds since `name` last touched its file, None if it never did."""
    try:
        return max(time.time() - path(name).stat().st_mtime, 0.0)
    except OSError:
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m commerce.core.liveness",
                                     description="Exit 0 if the process's heartbeat is fresh.")
    parser.add_argument("name", help="worker, beat, relay, or a consumer's name")
    parser.add_argument("--max-age", type=float, default=60.0, help="seconds (default 60)")
    args = parser.parse_args(argv)
    seen = age(args.name)
    if seen is None:
        print(f"{args.name}: no heartbeat at {path(args.name)}", file=sys.stderr)
        return 1
    if seen > args.max_age:
        print(f"{args.name}: last heartbeat {seen:.0f}s ago (> {args.max_age:.0f}s)",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
