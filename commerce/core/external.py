"""External calls made outside database transactions (ARCHITECTURE §4).

A command that needs a third party (the payment processor, a carrier) is written as three
parts: record the intent (with its idempotency key) in one short transaction, make the call
with no transaction or row lock held, record the outcome in another transaction. Code that
runs inside a transaction describes the call as an `ExternalCall` instead of making it; the
saga engine (or `perform`, for a caller with no transaction open) makes it and hands back
an `Outcome`. A call function must not touch the database: it runs on a pool thread while
other work uses the connection."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connection


@dataclass(frozen=True)
class ExternalCall:
    fn: Callable[[], Any]
    name: str  # for logs and metrics, e.g. "payments.authorize"


@dataclass(frozen=True)
class Outcome:
    """What an external call gave: its value, or the exception it raised."""

    value: Any = None
    error: BaseException | None = None

    def unwrap(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.value


def invoke(call: ExternalCall) -> Outcome:
    """Make the call, never raising: the exception (a timeout, a decline) is the outcome."""
    try:
        return Outcome(value=call.fn())
    except Exception as exc:  # noqa: BLE001 - every failure is an outcome to record
        return Outcome(error=exc)


def perform(call: ExternalCall) -> Outcome:
    """Make the call here, refusing to do so inside a transaction (a slow third party
    would hold its locks and connection for as long as it takes)."""
    if in_transaction():
        raise RuntimeError(f"{call.name}: external call inside a transaction")
    return invoke(call)


def in_transaction() -> bool:
    """Whether a transaction of ours is open (the test framework's own wrapping
    transaction, which stands for "no transaction" in a test, does not count)."""
    return any(not getattr(block, "_from_testcase", False)
               for block in connection.atomic_blocks)


def drive(steps):
    """Run a generator of external calls to its end here (no transaction may be open): each
    ExternalCall it yields is made with `perform` and its Outcome sent back in. Returns the
    generator's return value. Saga steps use `yield from` instead, so the engine makes the
    calls between their transactions."""
    outcome = None
    while True:
        try:
            call = steps.send(outcome)
        except StopIteration as stop:
            return stop.value
        outcome = perform(call)
