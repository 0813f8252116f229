"""What a saga run writes besides its own row: step log rows, saga events and step metrics.

Shared by the one-saga engine (sagas/engine.py) and the batch runner (sagas/batch.py)."""

import json
import traceback
from datetime import datetime
from typing import NamedTuple

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection

from commerce.core import metrics
from commerce.core.bulk import array_literal
from commerce.core.errors import DomainError
from commerce.eventstore import store
from commerce.eventstore.models import Event
from commerce.eventstore.types import NewEvent
from sagas.models import Direction, SagaInstance

SAGA_AGGREGATE = "Saga"


class StepLog(NamedTuple):
    """A `saga_steps` row to write (a tuple: a batch writes one per saga and step, and a
    model instance cost more to build than the row to store)."""

    saga_id: object
    step: str
    action: str
    status: str
    attempts: int
    started_at: datetime
    finished_at: datetime | None
    duration_ms: int
    last_error: str
    result: dict


def write_step_logs(rows: list[StepLog]) -> None:
    """One row per (saga, step, direction): inserted, or updated by a later attempt."""
    columns = [[r.saga_id for r in rows], [r.step for r in rows], [r.action for r in rows],
               [r.status for r in rows], [r.attempts for r in rows],
               [r.started_at for r in rows], [r.finished_at for r in rows],
               [r.duration_ms for r in rows], [r.last_error for r in rows],
               [json.dumps(r.result, cls=DjangoJSONEncoder) for r in rows]]
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO saga_steps (saga_id, step, action, status, attempts, started_at, "
            "finished_at, duration_ms, last_error, result) SELECT * FROM unnest(%s::uuid[], "
            "%s::varchar[], %s::varchar[], %s::varchar[], %s::integer[], %s::timestamptz[], "
            "%s::timestamptz[], %s::integer[], %s::text[], %s::jsonb[]) "
            "ON CONFLICT (saga_id, step, action) DO UPDATE SET status = excluded.status, "
            "attempts = excluded.attempts, started_at = excluded.started_at, "
            "finished_at = excluded.finished_at, duration_ms = excluded.duration_ms, "
            "last_error = excluded.last_error, result = excluded.result",
            [array_literal(column) for column in columns])


def record_saga_event(saga: SagaInstance, event_type: str, data: dict) -> None:
    """Facts about a saga that people and other services act on (SagaFailed: staff must
    repair; SagaAwaitingApproval: staff must decide) go to the event store on the saga's own
    stream, so they reach the outbox and the `commerce:events` stream like any event.
    Called while the saga's row is leased or locked, which serialises the stream."""
    version = Event.objects.filter(aggregate_id=saga.id).count()
    store.append(aggregate_id=saga.id, aggregate_type=SAGA_AGGREGATE, expected_version=version,
                 events=[NewEvent(event_type, {
                     "saga_id": str(saga.id), "saga_type": saga.saga_type,
                     "order_id": str(saga.correlation_id), **data})])


def count_step(saga_type: str, step: str, direction: str, elapsed: float) -> None:
    metrics.SAGA_STEP_SECONDS.labels(saga_type=saga_type, step=step).observe(elapsed)
    if direction == Direction.COMPENSATE:
        metrics.SAGA_COMPENSATIONS.labels(saga_type=saga_type, step=step).inc()


def describe_error(exc: BaseException) -> str:
    if isinstance(exc, DomainError):
        return f"{exc.code}: {exc.message}"
    text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return text[:2000]


def jsonable(value):
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))
