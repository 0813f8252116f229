"""Inline projections: read models updated inside the same transaction as the append, so a
successful command is immediately visible. `replay_events` rebuilds them from the store.

A projection must be a pure function of the events: use `event.created_at`, never now(),
so a rebuild is bit-for-bit equal to the live tables."""

from collections.abc import Iterable
from typing import Any, ClassVar

from django.db import connection
from django.db.models import Model

from commerce.eventstore.types import RecordedEvent


class Projection:
    name: ClassVar[str]
    # Which events this projection consumes; None means all.
    aggregate_types: ClassVar[frozenset[str] | None] = None
    event_types: ClassVar[frozenset[str] | None] = None
    # Tables it owns: truncated before a rebuild and compared by --verify, in this order.
    models: ClassVar[tuple[type[Model], ...]] = ()
    # Columns --verify ignores (none by default: a rebuild must match exactly).
    verify_exclude: ClassVar[frozenset[str]] = frozenset()

    def wants(self, event: RecordedEvent) -> bool:
        return (self.aggregate_types is None or event.aggregate_type in self.aggregate_types) and (
            self.event_types is None or event.event_type in self.event_types
        )

    def handle(self, event: RecordedEvent) -> None:
        """Apply one event. Default: call `on_<EventType>(event)` if defined."""
        method = getattr(self, f"on_{event.event_type}", None)
        if method is not None:
            method(event)

    def handle_many(self, events: list[RecordedEvent]) -> None:
        """Apply several events of one append (many streams), in order. Default: one by one.
        A projection on a hot path overrides it with set-based statements; it must leave
        exactly what `handle`, event by event, would (replays use `handle`, and
        `replay_events --verify` compares the two)."""
        for event in events:
            self.handle(event)

    def reset(self) -> None:
        tables = [m._meta.db_table for m in self.models]
        if tables:
            quoted = ", ".join(connection.ops.quote_name(t) for t in tables)
            with connection.cursor() as cursor:
                cursor.execute(f"TRUNCATE {quoted} CASCADE")

    def snapshot(self) -> dict[str, dict[Any, dict[str, Any]]]:
        """Every row of every owned table keyed by primary key, for --verify."""
        result = {}
        for model in self.models:
            fields = [f.attname for f in model._meta.concrete_fields
                      if f.attname not in self.verify_exclude]
            pk = model._meta.pk.attname
            result[model._meta.db_table] = {
                row[pk]: row for row in model.objects.order_by().values(*fields).iterator()
            }
        return result


class ProjectionRegistry:
    def __init__(self) -> None:
        self._projections: dict[str, Projection] = {}

    def register(self, projection: Projection) -> Projection:
        if projection.name in self._projections:
            raise ValueError(f"projection {projection.name!r} registered twice")
        self._projections[projection.name] = projection
        return projection

    def unregister(self, name: str) -> None:
        self._projections.pop(name, None)

    def all(self) -> list[Projection]:
        return list(self._projections.values())

    def get(self, name: str) -> Projection:
        return self._projections[name]

    def dispatch(self, events: Iterable[RecordedEvent]) -> None:
        projections = self.all()
        for event in events:
            for projection in projections:
                if projection.wants(event):
                    projection.handle(event)

    def dispatch_many(self, events: list[RecordedEvent]) -> None:
        """Live appends: each projection gets its events of the append together."""
        if len(events) == 1:
            return self.dispatch(events)
        for projection in self.all():
            wanted = [e for e in events if projection.wants(e)]
            if wanted:
                projection.handle_many(wanted)


registry = ProjectionRegistry()


def register(cls: type[Projection]) -> type[Projection]:
    """Class decorator: `@projections.register class OrderViews(Projection): ...`."""
    registry.register(cls())
    return cls
