"""Real concurrency for tests: each function runs on its own thread with its own
PostgreSQL connection and transaction, all released at the same instant, as concurrent
requests or workers would be."""

import threading
from collections.abc import Callable, Sequence

from django.db import connection


def run_concurrently(fns: Sequence[Callable[[], object]], *, timeout: float = 60) -> list:
    """Run every fn at once; return, in order, what each returned or the exception it
    raised. Fails the test if a thread is still running after `timeout` (a deadlock)."""
    barrier = threading.Barrier(len(fns))
    results: list = [None] * len(fns)

    def runner(i: int, fn: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=timeout)
            results[i] = fn()
        except Exception as exc:  # noqa: BLE001 - the outcome is what tests assert on
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i, fn)) for i, fn in enumerate(fns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=timeout)
    assert not any(t.is_alive() for t in threads), "a thread hung (deadlock?)"
    return results


def run_together(*fns: Callable[[], object]) -> list:
    return run_concurrently(fns)
