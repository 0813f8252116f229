"""Say plainly whether PostgreSQL and Redis answer, and how to start them if not."""

import os
import socket
import sys
from urllib.parse import urlparse


def reachable(url: str, default_port: int) -> tuple[str, int, bool]:
    parsed = urlparse(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or default_port
    try:
        with socket.create_connection((host, port), timeout=2):
            return host, port, True
    except OSError:
        return host, port, False


def main() -> int:
    missing = []
    for name, var, default, port in (
        ("PostgreSQL", "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/commerce", 5432),
        ("Redis", "REDIS_URL", "redis://127.0.0.1:6379/0", 6379),
    ):
        host, port, ok = reachable(os.environ.get(var, default), port)
        if not ok:
            missing.append(f"{name} does not answer on {host}:{port} ({var}).")
    if missing:
        print("\n".join(missing), file=sys.stderr)
        print(
            "Start them, for example:\n"
            "  docker compose up -d postgres redis\n"
            "  or: sudo systemctl start postgresql redis-server\n"
            "  or: pg_ctlcluster 15 main start && redis-server --daemonize yes",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
