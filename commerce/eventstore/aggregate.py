"""Event-sourced aggregates: state is the fold of the aggregate's events."""

import re
import uuid
from collections.abc import Iterable
from typing import Any, ClassVar, Generic, TypeVar

from commerce.core.errors import NotFound
from commerce.eventstore import store
from commerce.eventstore.types import NewEvent, RecordedEvent

_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def handler_name(event_type: str) -> str:
    """`OrderPlaced` → `apply_order_placed`."""
    return "apply_" + _CAMEL.sub("_", event_type).lower()


class Aggregate:
    """Subclasses set `aggregate_type` and define `apply_<snake_event>(data)` for every event
    they raise. Commands validate, then call `self.record(EventType, data)`; `record` applies
    the event immediately so later checks in the same command see the new state."""

    aggregate_type: ClassVar[str]

    def __init__(self, aggregate_id: uuid.UUID):
        self.id = aggregate_id
        self.version = 0  # the last stored version: the expected version of the next append
        self._pending: list[NewEvent] = []

    @classmethod
    def from_events(cls, aggregate_id: uuid.UUID, events: Iterable[RecordedEvent]):
        aggregate = cls(aggregate_id)
        for event in events:
            aggregate._apply(event.event_type, event.data)
            aggregate.version = event.version
        return aggregate

    def record(self, event_type: str, data: dict[str, Any], *, event_version: int = 1) -> None:
        self._apply(event_type, data)
        self._pending.append(NewEvent(event_type, data, event_version))

    @property
    def pending_events(self) -> list[NewEvent]:
        return list(self._pending)

    def _apply(self, event_type: str, data: dict[str, Any]) -> None:
        method = getattr(self, handler_name(event_type), None)
        if method is None:
            raise NotImplementedError(f"{type(self).__name__} has no {handler_name(event_type)}")
        method(data)

    def _mark_saved(self, count: int) -> None:
        self.version += count
        self._pending.clear()


A = TypeVar("A", bound=Aggregate)


class Repository(Generic[A]):
    """Loads aggregates from their events and saves pending events (with their inline
    projections and outbox rows) in one transaction."""

    def __init__(self, aggregate_cls: type[A]):
        self.aggregate_cls = aggregate_cls

    def get(self, aggregate_id: uuid.UUID) -> A:
        events = store.load(aggregate_id)
        if not events or events[0].aggregate_type != self.aggregate_cls.aggregate_type:
            raise NotFound(f"{self.aggregate_cls.aggregate_type} {aggregate_id} not found.")
        return self.aggregate_cls.from_events(aggregate_id, events)

    def exists(self, aggregate_id: uuid.UUID) -> bool:
        return bool(store.load(aggregate_id))

    def save(self, aggregate: A, *, metadata: dict[str, Any] | None = None,
             savepoint: bool = True) -> list[RecordedEvent]:
        """Append the pending events (see `store.append`, also for `savepoint`)."""
        pending = aggregate.pending_events
        if not pending:
            return []
        recorded = store.append(  # atomic itself: events, outbox, projections, policies
            aggregate_id=aggregate.id,
            aggregate_type=aggregate.aggregate_type,
            expected_version=aggregate.version,
            events=pending,
            metadata=metadata,
            savepoint=savepoint,
        )
        aggregate._mark_saved(len(recorded))
        return recorded
