"""append() and load(): the only way events enter and leave the `events` table."""

import json
import logging
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from commerce.core import context, metrics
from commerce.core.bulk import array_literal, plain_array_literal
from commerce.core.errors import ConcurrencyError
from commerce.eventstore import policies
from commerce.eventstore.models import Event
from commerce.eventstore.projections import registry
from commerce.eventstore.types import NewEvent, RecordedEvent
from commerce.eventstore.upcasting import upcast

logger = logging.getLogger(__name__)

_VERSION_CONSTRAINT = "events_aggregate_version_uniq"
# The events and their outbox rows in one statement: the outbox row's payload (the envelope
# consumers get, RecordedEvent.envelope) is built by the database from the row just stored,
# with its `position` from the sequence; the positions come back. Rows in arrays (one
# statement text whatever their number, so it stays prepared); `created_at` as the text
# Python's isoformat gives, as in every envelope.
_INSERT_SQL = """
WITH e AS (
    INSERT INTO events (id, aggregate_id, aggregate_type, event_type, event_version, event_data,
                        version, created_at, correlation_id, causation_id, actor)
    SELECT v.id, v.aggregate_id, v.aggregate_type, v.event_type, v.event_version, v.event_data,
           v.version, %(created_at)s, v.correlation_id, v.causation_id, v.actor
      FROM unnest(%(id)s::uuid[], %(aggregate_id)s::uuid[], %(aggregate_type)s::varchar[],
                  %(event_type)s::varchar[], %(event_version)s::smallint[],
                  %(event_data)s::jsonb[], %(version)s::integer[], %(correlation_id)s::varchar[],
                  %(causation_id)s::varchar[], %(actor)s::varchar[])
           WITH ORDINALITY AS v(id, aggregate_id, aggregate_type, event_type, event_version,
                                event_data, version, correlation_id, causation_id, actor, n)
     ORDER BY v.n
    RETURNING id, position, aggregate_id, aggregate_type, event_type, event_version, event_data,
              version, correlation_id, causation_id, actor),
o AS (
    INSERT INTO event_outbox (event_id, topic, payload, created_at, published_at, attempts,
                              last_error)
    SELECT e.id, e.aggregate_type, jsonb_build_object(
               'event_id', e.id, 'position', e.position, 'aggregate_id', e.aggregate_id,
               'aggregate_type', e.aggregate_type, 'event_type', e.event_type,
               'event_version', e.event_version, 'version', e.version,
               'created_at', %(created_at_text)s::text, 'data', e.event_data,
               'metadata', jsonb_build_object('correlation_id', e.correlation_id,
                                              'causation_id', e.causation_id,
                                              'actor', e.actor)),
           %(created_at)s, NULL, 0, ''
      FROM e ORDER BY e.position)
SELECT id, position FROM e
"""


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
    """`append` for many streams at once (a batch of saga steps): one statement for all
    their events and outbox rows, the projections given them together. All or nothing: any
    version clash raises ConcurrencyError and stores none of them."""
    appends = [a for a in appends if a.events]
    if not appends:
        return []
    bound = context.current()
    now = timezone.now()
    rows: list[list[tuple]] = []  # per stream, each event's values (unpacked by _insert)
    for a in appends:
        meta = {**bound, **(a.metadata or {})}
        if meta.get("correlation_id") is None:
            meta["correlation_id"] = context.correlation_id()
        correlation_id, causation_id, actor = (
            meta.get("correlation_id"), meta.get("causation_id"), meta.get("actor"))
        stream = []
        for i, e in enumerate(a.events, start=1):
            # Round-tripped through JSON so inline projections see exactly what a replay
            # will read back (Decimals as strings): rebuilds stay bit-for-bit. The text is
            # what is stored.
            text = json.dumps(e.data, cls=DjangoJSONEncoder)
            stream.append((uuid.uuid4(), a.aggregate_id, a.aggregate_type, e.event_type,
                           e.event_version, text, json.loads(text), a.expected_version + i,
                           correlation_id, causation_id, actor))
        rows.append(stream)
    flat = [row for stream in rows for row in stream]
    # One savepoint (or transaction): a caller may catch ConcurrencyError and carry on. The
    # IntegrityError is re-raised at once, so leaving this block rolls the insert back.
    with transaction.atomic(savepoint=savepoint):
        try:
            positions = _insert(flat, now)
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
        recorded = [[_recorded(id_, positions[id_], aggregate_id, aggregate_type, event_type,
                               event_version, data, version, now, correlation_id,
                               causation_id, actor, upcast_data=False)
                     for (id_, aggregate_id, aggregate_type, event_type, event_version, _, data,
                          version, correlation_id, causation_id, actor) in stream]
                    for stream in rows]
        every = [r for stream in recorded for r in stream]
        registry.dispatch_many(every)
        policies.dispatch(every)
        _nudge_relay()  # after commit
        # Counted once committed: a rolled-back append (a replayed placement) stored nothing.
        transaction.on_commit(partial(_count_appended, [
            (a.aggregate_type, len(stream)) for a, stream in zip(appends, recorded,
                                                                 strict=True)]), robust=True)
    return recorded


def _count_appended(counts: list[tuple[str, int]]) -> None:
    for aggregate_type, n in counts:
        metrics.EVENTS_APPENDED.labels(aggregate_type=aggregate_type).inc(n)
        # A conflict series (at 0) for every type that appends, so the conflict ratio
        # exists before the first conflict.
        metrics.EVENT_CONFLICTS.labels(aggregate_type=aggregate_type)


def _insert(rows: list[tuple], now) -> dict[uuid.UUID, int]:
    """Store the events (tuples as built by append_many) and their outbox rows; returns each
    event's position by id."""
    ids, aggregate_ids, aggregate_types, event_types, event_versions, texts, _, versions, \
        correlation_ids, causation_ids, actors = zip(*rows, strict=True)
    params = {
        "id": plain_array_literal(ids), "aggregate_id": plain_array_literal(aggregate_ids),
        "aggregate_type": array_literal(aggregate_types),
        "event_type": array_literal(event_types),
        "event_version": plain_array_literal(event_versions),
        "event_data": array_literal(texts), "version": plain_array_literal(versions),
        "correlation_id": array_literal(correlation_ids),
        "causation_id": array_literal(causation_ids), "actor": array_literal(actors),
        "created_at": now, "created_at_text": now.isoformat(),
    }
    with connection.cursor() as cursor:
        cursor.execute(_INSERT_SQL, params)
        return dict(cursor.fetchall())


_LAST_IDS_SQL = ("SELECT DISTINCT ON (aggregate_id) aggregate_id, id FROM events "
                 "WHERE aggregate_id = ANY(%s::uuid[]) ORDER BY aggregate_id, version DESC")


def last_event_ids(aggregate_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
    """Each stream's newest event id (absent: no events), from the (aggregate, version)
    index: whether a copy of a stream is still the stored one, without reading it."""
    if not aggregate_ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(_LAST_IDS_SQL, [plain_array_literal(list(aggregate_ids))])
        return dict(cursor.fetchall())


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
