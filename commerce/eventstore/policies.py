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
# Policies that take all the events of one append at once (a batch of saga steps appends
# many orders' events together): one query for the batch instead of one per event.
_many: set[Policy] = set()


def policy(*event_types: str, many: bool = False):
    """Decorator: `@policy("OrderPlaced") def start_fulfilment(event): ...`; with
    `many=True` the function gets the list of the append's events of those types."""

    def register(fn: Policy) -> Policy:
        for event_type in event_types:
            handlers = _policies.setdefault(event_type, [])
            if fn not in handlers:
                handlers.append(fn)
        if many:
            _many.add(fn)
        return fn

    return register


def unregister(fn: Policy) -> None:
    for handlers in _policies.values():
        if fn in handlers:
            handlers.remove(fn)


def dispatch(events: Iterable[RecordedEvent]) -> None:
    batched: dict[Policy, list[RecordedEvent]] = {}
    for event in events:
        for fn in list(_policies.get(event.event_type, ())):
            if fn in _many:
                batched.setdefault(fn, []).append(event)
            else:
                fn(event)
    for fn, group in batched.items():
        fn(group)
