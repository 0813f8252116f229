"""How sagas are declared: an ordered tuple of steps, each an action with its compensation.

An action or compensation is a function `fn(ctx: SagaContext) -> dict | None` that calls
domain services; the dict it returns is merged into the saga's data. It runs inside the
transaction that records its success and advances the saga, so its database effects and
the saga's progress commit together.

A step that needs a third party is a generator: it records its intent, then yields an
`ExternalCall` (commerce/core/external.py) and receives the call's `Outcome`. The engine
commits what the step did so far, makes the call with no transaction open, and resumes the
step in a new transaction, which records the answer and advances the saga. Calls carry an
idempotency key from `ctx.idempotency_key(...)`, stable across retries, so a step re-run
after a crash sends the same key and the provider answers with its original result.

Returns: a dict (merged into the saga's data), None, AWAIT_APPROVAL (staff decide),
END_SAGA (stop here, successfully) or `Refused(error)`: a business refusal the step has
recorded and wants kept (e.g. a declined card on the payment), after which the saga
compensates as if the error had been raised (a raised DomainError rolls the step back)."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

AWAIT_APPROVAL = object()  # returned by an action that must wait for a staff decision
# Returned by an action to end the saga here, successfully, without the remaining steps
# (e.g. fulfilment hands the order over to a cancellation requested meanwhile).
END_SAGA = object()


@dataclass(frozen=True)
class Refused:
    error: Exception


@dataclass
class SagaContext:
    saga_id: str
    saga_type: str
    correlation_id: str
    data: dict[str, Any]
    updates: dict[str, Any] = field(default_factory=dict)

    def idempotency_key(self, name: str) -> str:
        return f"saga:{self.saga_id}:{name}"

    def get(self, key: str, default=None):
        return self.updates.get(key, self.data.get(key, default))

    def set(self, **values) -> None:
        self.updates.update(values)


StepFn = Callable[[SagaContext], Any]


@dataclass(frozen=True)
class Step:
    """`batch`, optional: the same forward step for many sagas at once (the runner groups
    sagas waiting at this step: sagas/batch.py). `batch(ctxs)` returns {saga_id: value},
    or is a generator that yields {key: ExternalCall} and receives {key: Outcome}. A value
    is what `action` would return, or the exception that stopped that saga (a DomainError:
    refused, nothing written for it; another: transient, retried). If the batch itself
    fails, its sagas run this step one by one with `action`."""

    name: str
    action: StepFn | None = None
    compensation: StepFn | None = None
    batch: Callable[[list["SagaContext"]], Any] | None = None


@dataclass(frozen=True)
class SagaDefinition:
    saga_type: str
    steps: tuple[Step, ...]

    def index_of(self, name: str) -> int:
        return next(i for i, s in enumerate(self.steps) if s.name == name)


_registry: dict[str, SagaDefinition] = {}


def register(definition: SagaDefinition) -> SagaDefinition:
    names = [s.name for s in definition.steps]
    if len(set(names)) != len(names):
        raise ValueError(f"duplicate step names in {definition.saga_type}")
    _registry[definition.saga_type] = definition
    return definition


def get_definition(saga_type: str) -> SagaDefinition:
    return _registry[saga_type]
