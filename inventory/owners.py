"""Reservations hold stock for orders, which inventory knows only by id (it imports no app).
The app that owns orders registers how to ask about them (orders/apps.py), so
`inventory_verify` can check that stock is held exactly while an order needs it."""

import uuid
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class OwnerState:
    status: str         # the owner's own word for its state, for the report
    holds_stock: bool   # whether an active (reserved/confirmed) reservation belongs to it now


@dataclass(frozen=True, slots=True)
class ReservationOwners:
    # order ids → their states (unknown ids absent)
    states: Callable[[Collection[uuid.UUID]], dict[uuid.UUID, OwnerState]]
    # orders that must hold a confirmed (or already fulfilled) reservation right now
    needing_confirmed_stock: Callable[[], Iterable[uuid.UUID]]


_owners: ReservationOwners | None = None


def register(owners: ReservationOwners) -> None:
    global _owners
    _owners = owners


def registered() -> ReservationOwners | None:
    return _owners
