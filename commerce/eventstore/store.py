"""append() and load(): the only way events enter and leave the `events` table."""

import json
import logging
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from commerce.core import context, metrics
from commerce.core.bulk import array_literal, insert_rows
from commerce.core.errors import ConcurrencyError
from commerce.eventstore import policies
from commerce.eventstore.models import Event, OutboxMessage
from commerce.eventstore.projections import registry
from commerce.eventstore.types import NewEvent, RecordedEvent
from commerce.eventstore.upcasting import upcast

logger = logging.getLogger(__name__)

_VERSION_CONSTRAINT = "events_aggregate_version_uniq"
_EVENT_FIELDS = ("id", "aggregate_id", "aggregate_type", "event_type", "event_version",
                 "event_data", "version", "created_at", "correlation_id", "causation_id",
                 "actor")  # and `position`, from its sequence, returned
_OUTBOX_FIELDS = ("event_id", "topic", "payload", "created_at", "published_at", "attempts",
                  "last_error")


@dataclass(frozen=True)
class StreamAppend:
    """New events for one aggregate's stream, at the version its writer last saw."""

    aggregate_id: uuid.UUID
    aggregate_type: str
    expected_version: int
    events: Sequence[NewEvent]
    metadata: dict[str, Any] | None = None


def append(
    *,
    aggregate_id: uuid.UUID,
    aggregate_type: str,
    expected_version: int,
    events: Sequence[NewEvent],
    metadata: dict[str, Any] | None = None,
    savepoint: bool = True,
) -> list[RecordedEvent]:
    """Store `events` as versions expected_version+1.. of the aggregate, write them to the
    outbox, run inline projections and then policies, all in one transaction.

    Raises ConcurrencyError when another writer already stored any of those versions; the
    events are then not stored (never silently dropped, never ON CONFLICT DO NOTHING).
    Inside a caller's transaction the append is a savepoint, so a caller may catch the
    ConcurrencyError and carry on; `savepoint=False` saves its two statements where no
    caller does (a clash then dooms the whole transaction, which rolls back)."""
    return append_many([StreamAppend(aggregate_id, aggregate_type, expected_version, events,
                                     metadata)], savepoint=savepoint)[0]


def append_many(appends: Sequence[StreamAppend], *,
                savepoint: bool = True) -> list[list[RecordedEvent]]:
    """`append` for many streams at once (a batch of saga steps): one INSERT for all their
    events, one for their outbox rows, the projections given them together. All or
    nothing: any version clash raises ConcurrencyError and stores none of them."""
    appends = [a for a in appends if a.events]
    if not appends:
        return []
    bound = context.current()
    now = timezone.now()
    rows: list[list[Event]] = []
    for a in appends:
        meta = {**bound, **(a.metadata or {})}
        if meta.get("correlation_id") is None:
            meta["correlation_id"] = context.correlation_id()
        rows.append([
            Event(
                id=uuid.uuid4(),
                aggregate_id=a.aggregate_id,
                aggregate_type=a.aggregate_type,
                event_type=e.event_type,
                event_version=e.event_version,
                # Round-tripped through JSON so inline projections see exactly what a
                # replay will read back (Decimals as strings): rebuilds stay bit-for-bit.
                event_data=json.loads(json.dumps(e.data, cls=DjangoJSONEncoder)),
                version=a.expected_version + i,
                created_at=now,
                correlation_id=meta.get("correlation_id"),
                causation_id=meta.get("causation_id"),
                actor=meta.get("actor"),
            )
            for i, e in enumerate(a.events, start=1)
        ])
    flat = [row for stream in rows for row in stream]
    # One savepoint (or transaction): a caller may catch ConcurrencyError and carry on. The
    # IntegrityError is re-raised at once, so leaving this block rolls the insert back.
    with transaction.atomic(savepoint=savepoint):
        try:
            insert_rows(Event, flat, _EVENT_FIELDS, returning=("position",))
        except IntegrityError as exc:
            if _VERSION_CONSTRAINT not in str(exc):
                raise
            for a in appends:
                metrics.EVENT_CONFLICTS.labels(aggregate_type=a.aggregate_type).inc()
            raise ConcurrencyError(details={
                "aggregate_id": str(appends[0].aggregate_id) if len(appends) == 1
                else [str(a.aggregate_id) for a in appends],
                "expected_version": appends[0].expected_version if len(appends) == 1
                else [a.expected_version for a in appends],
            }) from exc
        recorded = [[_to_recorded(row, upcast_data=False) for row in stream]
                    for stream in rows]
        every = [r for stream in recorded for r in stream]
        insert_rows(OutboxMessage, [
            OutboxMessage(event_id=r.id, topic=r.aggregate_type, payload=r.envelope(),
                          created_at=now) for r in every], _OUTBOX_FIELDS)
        registry.dispatch_many(every)
        policies.dispatch(every)
        transaction.on_commit(_nudge_relay, robust=True)
    for a, stream in zip(appends, recorded, strict=True):
        metrics.EVENTS_APPENDED.labels(aggregate_type=a.aggregate_type).inc(len(stream))
        # A conflict series (at 0) for every type that appends, so the conflict ratio
        # exists before the first conflict.
        metrics.EVENT_CONFLICTS.labels(aggregate_type=a.aggregate_type)
    return recorded


def load(aggregate_id: uuid.UUID) -> list[RecordedEvent]:
    """All events of one aggregate in version order, upcast to their newest schema."""
    # (the one stream, whatever form its id came in: a UUID or its text)
    return next(iter(load_many([aggregate_id]).values()), [])


# Raw SQL: every command loads its aggregate's events; rows straight to RecordedEvents cost
# a fraction of model instances.
_COLUMNS = ("id", "position", "aggregate_id", "aggregate_type", "event_type", "event_version",
            "event_data", "version", "created_at", "correlation_id", "causation_id", "actor")
_LOAD_SQL = (f"SELECT {', '.join(_COLUMNS)} FROM events "
             "WHERE aggregate_id = ANY(%s::uuid[]) ORDER BY aggregate_id, version")


def load_many(aggregate_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[RecordedEvent]]:
    """`load` for many aggregates in one query: aggregate id → its events in version order
    (absent when it has none)."""
    loaded: dict[uuid.UUID, list[RecordedEvent]] = {}
    if not aggregate_ids:
        return loaded
    with connection.cursor() as cursor:
        cursor.execute(_LOAD_SQL, [array_literal(aggregate_ids)])
        rows = cursor.fetchall()
    for row in rows:
        event = _recorded(*row, from_sql=True)
        loaded.setdefault(event.aggregate_id, []).append(event)
    return loaded


def read_all(
    *, aggregate_types: Sequence[str] | None = None, event_types: Sequence[str] | None = None,
    chunk_size: int = 2000,
) -> Iterator[RecordedEvent]:
    """Stream the store in `position` order (for replays), upcast."""
    qs = Event.objects.order_by("position")
    if aggregate_types:
        qs = qs.filter(aggregate_type__in=list(aggregate_types))
    if event_types:
        qs = qs.filter(event_type__in=list(event_types))
    for row in qs.iterator(chunk_size=chunk_size):
        yield _to_recorded(row)


def _to_recorded(row: Event, *, upcast_data: bool = True) -> RecordedEvent:
    return _recorded(*(getattr(row, column) for column in _COLUMNS), upcast_data=upcast_data)


def _recorded(id_, position, aggregate_id, aggregate_type, event_type, version, data, number,
              created_at, correlation_id, causation_id, actor, *, upcast_data: bool = True,
              from_sql: bool = False) -> RecordedEvent:
    """An event from its stored columns (in `_COLUMNS` order), upcast unless told not to.
    `from_sql`: a raw row, whose jsonb Django's connection reads as text."""
    if from_sql and isinstance(data, str):
        data = json.loads(data)
    if upcast_data:
        version, data = upcast(event_type, version, data)
    return RecordedEvent(
        id=id_, position=position, aggregate_id=aggregate_id, aggregate_type=aggregate_type,
        event_type=event_type, event_version=version, data=data, version=number,
        created_at=created_at,
        metadata={"correlation_id": correlation_id, "causation_id": causation_id,
                  "actor": actor})


def _nudge_relay() -> None:
    # Imported lazily: the relay module imports Celery tasks.
    from commerce.eventstore.outbox import request_relay

    request_relay()
