"""Carrier adapters behind one interface (shipping/carriers/base.py): `get_carrier(code)`.

One adapter per carrier and configuration per process (its httpx pools and OAuth token are
reused); a changed base URL (tests pointing at a simulator) gets a fresh one."""

import threading

from django.conf import settings

from commerce.core.errors import ValidationFailed
from shipping.carriers.base import Carrier
from shipping.carriers.dhl import DHLCarrier
from shipping.carriers.fedex import FedExCarrier
from shipping.carriers.ups import UPSCarrier

ADAPTERS: dict[str, type[Carrier]] = {"fedex": FedExCarrier, "ups": UPSCarrier,
                                      "dhl": DHLCarrier}
_instances: dict[tuple[str, str], Carrier] = {}
_lock = threading.Lock()


def enabled() -> list[str]:
    """The carriers this shop ships with (settings.SHIPPING_CARRIERS), in that order."""
    return [code for code in settings.SHIPPING_CARRIERS if code in ADAPTERS]


def default() -> str:
    """The first enabled carrier (400 when none is configured)."""
    if not enabled():
        raise ValidationFailed("No carrier is configured (SHIPPING_CARRIERS).",
                               details={"carrier": ["No carrier is enabled."]})
    return enabled()[0]


def get_carrier(code: str) -> Carrier:
    code = (code or "").lower()
    if code not in enabled():
        raise ValidationFailed(f"Unknown carrier {code!r}.",
                               details={"carrier": [f"One of {', '.join(enabled())}."]})
    key = (code, getattr(settings, f"{ADAPTERS[code].settings_prefix}_API_URL"))
    with _lock:
        if key not in _instances:
            _instances[key] = ADAPTERS[code]()
        return _instances[key]
