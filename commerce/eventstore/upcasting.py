"""Upcasters turn the stored shape of an old `event_version` into the current one when
events are read, so aggregates and projections only ever see the newest schema and stored
events stay immutable."""

from collections.abc import Callable
from typing import Any

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
_upcasters: dict[tuple[str, int], Upcaster] = {}


def upcaster(event_type: str, *, from_version: int):
    """Register fn(data) -> data turning `from_version` into `from_version + 1`."""

    def register(fn: Upcaster) -> Upcaster:
        key = (event_type, from_version)
        if key in _upcasters:
            raise ValueError(f"duplicate upcaster for {event_type} v{from_version}")
        _upcasters[key] = fn
        return fn

    return register


def upcast(event_type: str, event_version: int, data: dict[str, Any]) -> tuple[int, dict]:
    while (fn := _upcasters.get((event_type, event_version))) is not None:
        data = fn(dict(data))
        event_version += 1
    return event_version, data


def unregister(event_type: str, *, from_version: int) -> None:
    """For tests that register a temporary upcaster."""
    _upcasters.pop((event_type, from_version), None)
