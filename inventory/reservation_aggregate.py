"""The reservation aggregate: the decision model of one reservation, folded from its stream.

Its commands decide which event a reservation command records (or that it is a repeat, or
refused); inventory/reservations.py and inventory/batch.py take the locks and append."""

import uuid
from datetime import datetime

from commerce.eventstore.aggregate import Aggregate, Repository
from inventory import events as ev
from inventory.errors import InvalidReservationState
from inventory.models import Reservation

Status = Reservation.Status

class ReservationAggregate(Aggregate):
    """The decision model of one reservation, folded from its stream."""

    aggregate_type = ev.RESERVATION

    def __init__(self, aggregate_id: uuid.UUID):
        super().__init__(aggregate_id)
        self.status: str | None = None
        self.order_id: str | None = None
        self.lines: list[dict] = []
        # Per-line progress (split shipments, returns): sku → units shipped / put back.
        self.fulfilled: dict[str, int] = {}
        self.restocked: dict[str, int] = {}
        self.fulfilments: dict[str, list[dict]] = {}  # reference → lines still out under it
        self.references: set[str] = set()  # every per-line reference applied so far

    # --- commands: each returns True when it recorded something, False for a repeat ----
    def reserve(self, *, order_id: uuid.UUID, lines: list[dict], expires_at: datetime) -> None:
        self.record(ev.STOCK_RESERVED, {
            "order_id": str(order_id), "lines": lines, "expires_at": expires_at.isoformat(),
        })

    def confirm(self) -> bool:
        return self._move(ev.RESERVATION_CONFIRMED, allowed={Status.RESERVED},
                          repeats={Status.CONFIRMED, Status.FULFILLED, Status.RESTOCKED})

    def fulfill(self) -> bool:
        # Fulfilling an unconfirmed reservation is allowed (it implies confirmation).
        if self.status == Status.PARTIALLY_FULFILLED:  # the units not shipped yet leave too
            return self.fulfill_lines(self.outstanding(), reference="remainder")
        return self._move(ev.RESERVATION_FULFILLED, allowed={Status.RESERVED, Status.CONFIRMED},
                          repeats={Status.FULFILLED, Status.RESTOCKED})

    def release(self, reason: str, *, order_ending: bool) -> bool:
        if self.status == Status.CONFIRMED and not order_ending:
            # Confirmed stock belongs to a paid order: freeing it lets another order take
            # the same units while this one still expects them (an oversell by hand).
            raise InvalidReservationState(
                "A confirmed reservation holds stock for a paid order; only the order's "
                "cancellation or failure releases it.",
                details={"status": self.status, "order_id": self.order_id})
        return self._move(ev.RESERVATION_RELEASED, allowed={Status.RESERVED, Status.CONFIRMED},
                          repeats={Status.RELEASED, Status.EXPIRED}, reason=reason)

    def expire(self) -> bool:
        # Only a reservation nobody confirmed expires; a paid one is held until fulfilled.
        return self._move(ev.RESERVATION_EXPIRED, allowed={Status.RESERVED},
                          repeats=set(Status.values) - {Status.RESERVED}, reason="expired")

    def restock(self, reason: str) -> bool:
        """Everything shipped and not yet back goes back into stock; of a partially
        fulfilled reservation, the units still held are released first."""
        if self.status == Status.PARTIALLY_FULFILLED:
            held = self._lines(self.outstanding())
            self.record(ev.RESERVATION_RELEASED,
                        {"order_id": self.order_id, "lines": held, "reason": reason})
            self.status = Status.FULFILLED  # what is left is exactly what was shipped
        elif self.status not in (Status.FULFILLED, Status.RESTOCKED):
            self._refuse(ev.RESERVATION_RESTOCKED)
        if self.status == Status.RESTOCKED:
            return False
        out = {sku: n - self.restocked.get(sku, 0) for sku, n in self.fulfilled.items()}
        self.record(ev.RESERVATION_RESTOCKED, {"order_id": self.order_id,
                                               "lines": self._lines(out), "reason": reason})
        return True

    # --- per line: split shipments and returns (each idempotent by its reference) ------
    def outstanding(self) -> dict[str, int]:
        """Units still held for the order, per sku."""
        return {line["sku"]: line["quantity"] - self.fulfilled.get(line["sku"], 0)
                for line in self.lines}

    def fulfill_lines(self, lines: dict[str, int], *, reference: str) -> bool:
        """Units of some lines leave the warehouse (a shipment)."""
        if reference in self.references:
            return False
        if self.status not in (Status.RESERVED, Status.CONFIRMED, Status.PARTIALLY_FULFILLED):
            self._refuse(ev.RESERVATION_LINES_FULFILLED)
        self._check_within(lines, self.outstanding(), "held for the order")
        left = {sku: n - lines.get(sku, 0) for sku, n in self.outstanding().items()}
        status = Status.FULFILLED if not any(left.values()) else Status.PARTIALLY_FULFILLED
        self.record(ev.RESERVATION_LINES_FULFILLED, {
            "order_id": self.order_id, "reference": reference, "lines": self._lines(lines),
            "status": status})
        return True

    def unfulfill_lines(self, *, reference: str, reason: str) -> bool:
        """A shipment was cancelled before leaving: its units are held for the order again."""
        if f"unfulfil:{reference}" in self.references:
            return False
        if reference not in self.fulfilments or self.status not in (
                Status.PARTIALLY_FULFILLED, Status.FULFILLED):
            self._refuse(ev.RESERVATION_LINES_UNFULFILLED)
        lines = {line["sku"]: line["quantity"] for line in self.fulfilments[reference]}
        self._check_within(lines, {sku: n - self.restocked.get(sku, 0)
                                   for sku, n in self.fulfilled.items()}, "out of stock")
        still_out = any(n - lines.get(sku, 0) for sku, n in self.fulfilled.items())
        self.record(ev.RESERVATION_LINES_UNFULFILLED, {
            "order_id": self.order_id, "reference": reference, "lines": self._lines(lines),
            "reason": reason,
            "status": Status.PARTIALLY_FULFILLED if still_out else Status.CONFIRMED})
        return True

    def restock_lines(self, lines: dict[str, int], *, reference: str, reason: str) -> bool:
        """Shipped units came back and are sellable again (a received return)."""
        if reference in self.references:
            return False
        if self.status not in (Status.PARTIALLY_FULFILLED, Status.FULFILLED):
            self._refuse(ev.RESERVATION_LINES_RESTOCKED)
        self._check_within(lines, {sku: n - self.restocked.get(sku, 0)
                                   for sku, n in self.fulfilled.items()}, "shipped")
        back = {sku: self.restocked.get(sku, 0) + lines.get(sku, 0) for sku in self.fulfilled}
        all_back = self.status == Status.FULFILLED and all(
            back.get(line["sku"], 0) == line["quantity"] for line in self.lines)
        self.record(ev.RESERVATION_LINES_RESTOCKED, {
            "order_id": self.order_id, "reference": reference, "lines": self._lines(lines),
            "reason": reason, "status": Status.RESTOCKED if all_back else self.status})
        return True

    def _check_within(self, lines: dict[str, int], limits: dict[str, int], what: str) -> None:
        over = [{"sku": sku, "requested": n, "allowed": limits.get(sku, 0)}
                for sku, n in sorted(lines.items()) if n > limits.get(sku, 0)]
        if over:
            raise InvalidReservationState(
                f"More units than are {what} for this order.",
                details={"lines": over, "order_id": self.order_id, "status": self.status})

    @staticmethod
    def _lines(quantities: dict[str, int]) -> list[dict]:
        return [{"sku": sku, "quantity": n} for sku, n in sorted(quantities.items()) if n]

    def _refuse(self, event_type: str):
        raise InvalidReservationState(
            f"Cannot {_ACTIONS[event_type]} a reservation that is {self.status}.",
            details={"status": self.status, "order_id": self.order_id})

    def _move(self, event_type: str, *, allowed: set, repeats: set, reason: str | None = None
              ) -> bool:
        if self.status in repeats:
            return False
        if self.status not in allowed:
            self._refuse(event_type)
        data = {"order_id": self.order_id, "lines": self.lines}
        if reason is not None:
            data["reason"] = reason
        self.record(event_type, data)
        return True

    # --- folds ----------------------------------------------------------------------
    def apply_stock_reserved(self, data: dict) -> None:
        self.status, self.order_id, self.lines = Status.RESERVED, data["order_id"], data["lines"]

    def apply_reservation_confirmed(self, data: dict) -> None:
        self.status = Status.CONFIRMED

    def apply_reservation_fulfilled(self, data: dict) -> None:
        self.status = Status.FULFILLED
        self.fulfilled = {line["sku"]: line["quantity"] for line in self.lines}

    def apply_reservation_released(self, data: dict) -> None:
        self.status = Status.RELEASED

    def apply_reservation_expired(self, data: dict) -> None:
        self.status = Status.EXPIRED

    def apply_reservation_restocked(self, data: dict) -> None:
        self.status = Status.RESTOCKED
        self._add(self.restocked, data["lines"])

    def apply_reservation_lines_fulfilled(self, data: dict) -> None:
        self._add(self.fulfilled, data["lines"])
        self.fulfilments[data["reference"]] = data["lines"]
        self.references.add(data["reference"])
        self.status = data["status"]

    def apply_reservation_lines_unfulfilled(self, data: dict) -> None:
        self._add(self.fulfilled, data["lines"], sign=-1)
        self.fulfilments.pop(data["reference"], None)
        self.references.add(f"unfulfil:{data['reference']}")
        self.status = data["status"]

    def apply_reservation_lines_restocked(self, data: dict) -> None:
        self._add(self.restocked, data["lines"])
        self.references.add(data["reference"])
        self.status = data["status"]

    @staticmethod
    def _add(counts: dict[str, int], lines: list[dict], sign: int = 1) -> None:
        for line in lines:
            counts[line["sku"]] = counts.get(line["sku"], 0) + sign * line["quantity"]


_ACTIONS = {
    ev.RESERVATION_CONFIRMED: "confirm", ev.RESERVATION_FULFILLED: "fulfill",
    ev.RESERVATION_RELEASED: "release", ev.RESERVATION_EXPIRED: "expire",
    ev.RESERVATION_RESTOCKED: "restock", ev.RESERVATION_LINES_FULFILLED: "fulfil lines of",
    ev.RESERVATION_LINES_UNFULFILLED: "take back a shipment of",
    ev.RESERVATION_LINES_RESTOCKED: "restock lines of",
}
repository = Repository(ReservationAggregate)
