"""Policies: reactions to events that run inside the appending transaction on live appends
only, never during a replay (unlike projections). This is how one domain reacts to
another's facts without importing it: e.g. the sagas app starts the fulfilment saga when it
sees OrderPlaced, and `orders` never imports `sagas`.

A policy must only write its own state and schedule side effects with
transaction.on_commit (so a rolled-back command triggers nothing)."""

from collections.abc import Callable, Iterable

from commerce.eventstore.types import RecordedEvent

Policy = Callable[[RecordedEvent], None]
_policies: dict[str, list[Policy]] = {}


def policy(*event_types: str):
    """Decorator: `@policy("OrderPlaced") def start_fulfilment(event): ...`."""

    def register(fn: Policy) -> Policy:
        for event_type in event_types:
            handlers = _policies.setdefault(event_type, [])
            if fn not in handlers:
                handlers.append(fn)
        return fn

    return register


def unregister(fn: Policy) -> None:
    for handlers in _policies.values():
        if fn in handlers:
            handlers.remove(fn)


def dispatch(events: Iterable[RecordedEvent]) -> None:
    for event in events:
        for fn in list(_policies.get(event.event_type, ())):
            fn(event)
