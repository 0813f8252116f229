"""Rebuild read models from the event store, or verify that rebuilding changes nothing."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from commerce.eventstore import store
from commerce.eventstore.projections import Projection, registry


@dataclass
class Difference:
    table: str
    key: Any
    kind: str  # "missing" (in rebuild, not live) | "unexpected" (live only) | "changed"
    live: dict | None = None
    rebuilt: dict | None = None

    def describe(self) -> str:
        if self.kind == "changed":
            cols = {k: (self.live[k], self.rebuilt[k]) for k in self.live
                    if self.live[k] != self.rebuilt.get(k)}
            changes = ", ".join(f"{k}: live={a!r} rebuilt={b!r}" for k, (a, b) in cols.items())
            return f"{self.table}[{self.key}] differs: {changes}"
        if self.kind == "missing":
            return f"{self.table}[{self.key}] missing from live table (rebuild has {self.rebuilt})"
        return f"{self.table}[{self.key}] in live table but not in rebuild ({self.live})"


@dataclass
class ReplayResult:
    projections: list[str]
    events: int = 0
    differences: list[Difference] = field(default_factory=list)


def select_projections(
    *, names: Sequence[str] | None = None, aggregate_types: Sequence[str] | None = None
) -> list[Projection]:
    chosen = registry.all()
    if names:
        chosen = [p for p in chosen if p.name in set(names)]
    if aggregate_types:
        wanted = set(aggregate_types)
        chosen = [p for p in chosen if p.aggregate_types is None or p.aggregate_types & wanted]
    return chosen


def rebuild(
    projections: list[Projection], *, verify: bool = False,
    progress: Callable[[int], None] | None = None, progress_every: int = 5000,
) -> ReplayResult:
    """Truncate and refill `projections` from the store in position order, in one
    transaction. With verify=True the live tables are compared with the rebuild and the
    rebuild is rolled back, so verifying never changes anything."""
    result = ReplayResult(projections=[p.name for p in projections])
    with transaction.atomic():
        live = {p.name: p.snapshot() for p in projections} if verify else {}
        for p in projections:
            p.reset()
        agg_types = _union(p.aggregate_types for p in projections)
        ev_types = _union(p.event_types for p in projections)
        for event in store.read_all(aggregate_types=agg_types, event_types=ev_types):
            for p in projections:
                if p.wants(event):
                    p.handle(event)
            result.events += 1
            if progress and result.events % progress_every == 0:
                progress(result.events)
        if verify:
            for p in projections:
                result.differences.extend(_diff(live[p.name], p.snapshot()))
            transaction.set_rollback(True)
    return result


def _union(sets) -> list[str] | None:
    merged: set[str] = set()
    for s in sets:
        if s is None:
            return None
        merged |= s
    return sorted(merged)


def _diff(live: dict, rebuilt: dict) -> list[Difference]:
    out = []
    for table in sorted(set(live) | set(rebuilt)):
        a, b = live.get(table, {}), rebuilt.get(table, {})
        for key in sorted(set(a) | set(b), key=str):
            if key not in a:
                out.append(Difference(table, key, "missing", rebuilt=b[key]))
            elif key not in b:
                out.append(Difference(table, key, "unexpected", live=a[key]))
            elif a[key] != b[key]:
                out.append(Difference(table, key, "changed", live=a[key], rebuilt=b[key]))
    return out
