"""What the three simulated carriers share: deterministic rates, tracking numbers derived from
the caller's idempotency key, one-page PDF labels, scripted tracking progressions, scripted
faults, and the tracking webhooks each carrier pushes (signed its own way, see the carrier
modules).

State lives in the aiohttp app (`app[STATE]`), in memory: tests read and script it through
`/_sim/...` endpoints or `server.app[STATE]` directly."""

import asyncio
import hashlib
import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from aiohttp import web

logger = logging.getLogger(__name__)

CENT = Decimal("0.01")

# Per service level: (base price, price per kg, transit days domestic, international).
SERVICE_PRICING = {
    "economy": (Decimal("6.50"), Decimal("0.95"), 5, 9),
    "standard": (Decimal("8.90"), Decimal("1.40"), 3, 6),
    "express": (Decimal("19.50"), Decimal("2.60"), 2, 3),
    "overnight": (Decimal("34.00"), Decimal("3.90"), 1, 2),
}
INTERNATIONAL_FACTOR = Decimal("2.5")
# Postal codes that script outcomes (documented in docs/shipping.md).
REFUSED_POSTAL_CODE = "00000"  # labels to it are refused: address not deliverable
EXCEPTION_POSTAL_PREFIX = "999"  # its parcels hit a delivery exception instead of arriving

# The scripted progression of a parcel after its label is bought: (status, location role).
PROGRESSION = ["picked_up", "in_transit", "out_for_delivery", "delivered"]
EXCEPTION_PROGRESSION = ["picked_up", "in_transit", "exception"]


@dataclass
class Shipment:
    carrier: str
    tracking_number: str
    reference: str
    service_code: str
    origin: dict[str, str]
    destination: dict[str, str]
    weight_kg: Decimal
    cost: Decimal
    currency: str
    is_return: bool = False
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    step: int = 0  # scripted events emitted so far
    voided: bool = False
    events: list[dict[str, Any]] = field(default_factory=list)  # (status, at, place)

    @property
    def progression(self) -> list[str]:
        if self.destination.get("postal_code", "").startswith(EXCEPTION_POSTAL_PREFIX):
            return EXCEPTION_PROGRESSION
        return PROGRESSION

    @property
    def finished(self) -> bool:
        return self.voided or self.step >= len(self.progression)


@dataclass
class State:
    shipments: dict[str, Shipment] = field(default_factory=dict)  # tracking number → parcel
    by_reference: dict[tuple[str, str], str] = field(default_factory=dict)
    faults: list[dict[str, Any]] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)  # (carrier, operation)
    tokens: dict[str, datetime] = field(default_factory=dict)  # issued bearer tokens
    pushes: list[dict[str, Any]] = field(default_factory=list)  # webhook deliveries tried
    config: dict[str, Any] = field(default_factory=dict)


STATE = web.AppKey("carrier_state", State)


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def billable_kg(weight_kg, length_cm=0, width_cm=0, height_cm=0) -> Decimal:
    """Actual or volumetric weight (L×W×H / 5000), whichever is more, at least 0.1 kg."""
    volumetric = (Decimal(str(length_cm or 0)) * Decimal(str(width_cm or 0))
                  * Decimal(str(height_cm or 0))) / Decimal(5000)
    return max(Decimal(str(weight_kg or 0)), volumetric, Decimal("0.1"))


def quote(level: str, kg: Decimal, origin_country: str, destination_country: str,
          today: date | None = None) -> tuple[Decimal, int, date]:
    """(price, transit days, estimated delivery) of one service level: deterministic."""
    base, per_kg, domestic_days, international_days = SERVICE_PRICING[level]
    international = origin_country != destination_country
    price = base + per_kg * kg
    if international:
        price *= INTERNATIONAL_FACTOR
    days = international_days if international else domestic_days
    return money(price), days, (today or datetime.now(UTC).date()) + timedelta(days=days)


def digits(seed: str, length: int) -> str:
    """A deterministic string of `length` digits derived from `seed`."""
    number = int.from_bytes(hashlib.sha256(seed.encode()).digest()[:12], "big")
    return str(number % 10 ** length).zfill(length)


def take_fault(state: State, carrier: str, operation: str) -> dict[str, Any] | None:
    """The next scripted fault for this call, if any (consumed)."""
    state.calls.append({"carrier": carrier, "operation": operation})
    for fault in state.faults:
        if fault["carrier"] in (carrier, "*") and fault["operation"] in (operation, "*") \
                and fault["times"] > 0:
            fault["times"] -= 1
            return fault
    return None


async def apply_fault(fault: dict[str, Any] | None, error_response) -> web.Response | None:
    """Play a fault: "timeout" answers late (the client gives up first), "error" 503,
    "garbage" a 200 nobody can read, "refuse" the carrier's 4xx.
    `error_response(status, code, message)` shapes the body."""
    if fault is None:
        return None
    if fault["mode"] == "timeout":
        await asyncio.sleep(fault.get("delay", 2.0))
        return None  # then answers normally, too late for a client with a short timeout
    if fault["mode"] == "error":
        return error_response(503, "SERVICE.UNAVAILABLE", "The service is unavailable.")
    if fault["mode"] == "garbage":  # 200 with a body no client can read
        return web.json_response({"unexpected": True})
    return error_response(fault.get("status", 400), fault.get("code", "REQUEST.REFUSED"),
                          fault.get("message", "The request was refused."))


def pdf_label(lines: list[str]) -> bytes:
    """A one-page PDF showing `lines` (what a 4×6 label would print)."""
    text = " ".join(f"({_pdf_text(line)}) Tj T*" for line in lines)
    stream = f"BT /F1 12 Tf 14 TL 24 400 Td {text} ET".encode("latin-1", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 288 432] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream
        + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += (f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n"
            "%%EOF\n").encode()
    return bytes(out)


def _pdf_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def register_shipment(state: State, shipment: Shipment) -> Shipment:
    key = (shipment.carrier, shipment.reference)
    existing = state.by_reference.get(key)
    if existing is not None:  # the same idempotency key: the parcel already made
        return state.shipments[existing]
    state.shipments[shipment.tracking_number] = shipment
    state.by_reference[key] = shipment.tracking_number
    return shipment


def label_lines(shipment: Shipment, carrier_name: str) -> list[str]:
    to = shipment.destination
    return [f"{carrier_name} {shipment.service_code}", f"TRACKING {shipment.tracking_number}",
            "RETURN LABEL" if shipment.is_return else "SHIP TO:",
            to.get("name", ""), to.get("line1", ""),
            f"{to.get('postal_code', '')} {to.get('city', '')} {to.get('country', '')}",
            f"WEIGHT {shipment.weight_kg} KG"]


def advance(shipment: Shipment, *, at: datetime | None = None) -> dict[str, Any] | None:
    """Emit the parcel's next scripted event (None when it has no more)."""
    if shipment.finished:
        return None
    status = shipment.progression[shipment.step]
    place = shipment.origin if shipment.step == 0 else shipment.destination
    at = at or datetime.now(UTC).replace(microsecond=0)
    if shipment.events and at <= shipment.events[-1]["at"]:  # scans never share a second
        at = shipment.events[-1]["at"] + timedelta(seconds=1)
    event = {"status": status, "at": at,
             "city": place.get("city", ""), "country": place.get("country", ""),
             "region": place.get("region", ""), "postal_code": place.get("postal_code", "")}
    shipment.events.append(event)
    shipment.step += 1
    return event
