"""The one interface every carrier adapter implements (FedEx, UPS, DHL Express), and the
values it speaks in. Adapters are `HttpService`s (commerce/core/http.py): timeouts,
bounded retries of transient failures, metrics per carrier and operation. A carrier's 4xx
becomes `CarrierRefused` (422, `carrier_refused`, with the carrier's own code and message);
no usable answer after the retries is `ExternalUnavailable` (503). Every call that creates
something carries our idempotency key in the form the carrier takes it, so a retry after
a timeout gets the same parcel and label back."""

import abc
import functools
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings

from commerce.core.errors import DomainError, ErrorCode
from commerce.core.http import ExternalRefused, ExternalUnavailable, HttpService

# Our service levels, cheapest first; each carrier maps its own products onto them.
SERVICE_LEVELS = ("economy", "standard", "express", "overnight")


class CarrierRefused(DomainError):
    code = ErrorCode.CARRIER_REFUSED
    http_status = 422
    default_message = "The carrier refused the request."


class WebhookRejected(DomainError):
    """A push that is not provably from the carrier (bad or missing signature, stale
    timestamp): 401, nothing recorded."""

    code = ErrorCode.WEBHOOK_SIGNATURE_INVALID
    http_status = 401
    default_message = "The webhook signature is missing or invalid."


@dataclass(frozen=True)
class Address:
    name: str = ""
    line1: str = ""
    line2: str = ""
    city: str = ""
    region: str = ""
    postal_code: str = ""
    country: str = ""
    phone: str = ""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Address":
        return cls(**{k: str(data.get(k) or "") for k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class Parcel:
    weight_kg: Decimal
    length_cm: Decimal
    width_cm: Decimal
    height_cm: Decimal

    def as_dict(self) -> dict[str, str]:
        return {k: str(getattr(self, k)) for k in self.__dataclass_fields__}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Parcel":
        return cls(**{k: Decimal(str(data[k])) for k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class Rate:
    carrier: str
    service_code: str  # the carrier's own product code
    service_name: str
    service_level: str  # one of SERVICE_LEVELS
    amount: Decimal
    currency: str
    transit_days: int | None
    estimated_delivery: date | None


@dataclass(frozen=True)
class Label:
    carrier: str
    service_code: str
    tracking_number: str
    document: bytes  # the label to print (PDF)
    cost: Decimal
    currency: str


@dataclass(frozen=True)
class TrackingUpdate:
    """One carrier scan, in our vocabulary (status: label_created, in_transit,
    out_for_delivery, delivered, exception) with the carrier's own code kept."""

    tracking_number: str
    status: str
    code: str
    description: str
    location: str
    occurred_at: datetime

    @property
    def key(self) -> str:
        """Identity of the scan: the same scan pushed twice (or polled after being pushed)
        is recorded once."""
        return f"{self.code}@{self.occurred_at.isoformat()}"


def carrier_answer(operation: str):
    """An answer we cannot read (a field missing, a wrong type) is the carrier failing, not
    us: ExternalUnavailable (503; label purchases stay pending and are retried with the
    same key), never a 500."""

    def wrap(method):
        @functools.wraps(method)
        def call(self, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            except (KeyError, IndexError, ValueError, TypeError, AttributeError,
                    StopIteration) as exc:
                raise ExternalUnavailable(
                    f"{self.name} answered {operation} in a shape we cannot read.",
                    details={"service": self.code, "operation": operation,
                             "error": type(exc).__name__}) from exc
        return call

    return wrap


class Carrier(HttpService, abc.ABC):
    code: str = ""  # fedex | ups | dhl
    name: str = ""
    services: dict[str, tuple[str, str]] = {}  # carrier product code → (level, name)
    settings_prefix: str = ""  # FEDEX → FEDEX_API_URL, FEDEX_ACCOUNT_NUMBER

    def __init__(self, **kwargs):
        kwargs.setdefault("base_url", getattr(settings, f"{self.settings_prefix}_API_URL"))
        kwargs.setdefault("timeout", settings.CARRIER_TIMEOUT_SECONDS)
        super().__init__(**kwargs)
        self.account = getattr(settings, f"{self.settings_prefix}_ACCOUNT_NUMBER")

    def service_for(self, level: str) -> str:
        """The carrier's product code for one of our service levels."""
        return next(code for code, (lvl, _) in self.services.items() if lvl == level)

    @abc.abstractmethod
    def rates(self, *, origin: Address, destination: Address, parcel: Parcel,
              currency: str) -> list[Rate]: ...

    @abc.abstractmethod
    def create_label(self, *, origin: Address, destination: Address, parcel: Parcel,
                     service_code: str, reference: str, is_return: bool = False) -> Label: ...

    @abc.abstractmethod
    def track(self, *, tracking_number: str) -> list[TrackingUpdate]: ...

    @abc.abstractmethod
    def void(self, *, tracking_number: str) -> None: ...

    @abc.abstractmethod
    def parse_webhook(self, *, headers: Mapping[str, str], body: bytes
                      ) -> list[TrackingUpdate]:
        """Verify a push the way this carrier signs it (WebhookRejected if not) and read
        its tracking events."""

    # --- shared plumbing ----------------------------------------------------------------
    def request(self, operation: str, method: str, path: str, **kwargs):
        """One carrier call; its refusals become CarrierRefused with the carrier's words."""
        try:
            return self.call(operation, method, path, **kwargs)
        except ExternalRefused as exc:
            code, message = self.refusal(exc.body)
            raise CarrierRefused(
                f"{self.name} refused {operation}: {message}",
                details={"carrier": self.code, "operation": operation,
                         "status": exc.status, "carrier_code": code,
                         "carrier_message": message}) from exc

    def request_with_token(self, token: "OAuthToken", operation: str, method: str, path: str,
                           *, headers: dict[str, str], **kwargs):
        """A call with the OAuth bearer token; an expired or revoked one (401) is renewed
        once."""
        for attempt in (1, 2):
            try:
                return self.request(operation, method, path, **kwargs, headers={
                    **headers, "Authorization": f"Bearer {token.get()}"})
            except CarrierRefused as exc:
                if exc.details.get("status") != 401 or attempt == 2:
                    raise
                token.reset()

    @staticmethod
    def refusal(body: Any) -> tuple[str, str]:
        """(code, message) of a carrier error body."""
        return "", str(body)[:300]


class OAuthToken:
    """A client-credentials bearer token cached per process until shortly before it
    expires (FedEx and UPS): one token call, not one per request."""

    def __init__(self, fetch):
        self._fetch = fetch  # () -> (token, expires_in seconds)
        self._lock = threading.Lock()
        self._value: str | None = None
        self._expires = 0.0

    def get(self) -> str:
        with self._lock:
            if self._value is None or time.monotonic() > self._expires:
                self._value, ttl = self._fetch()
                self._expires = time.monotonic() + max(float(ttl) - 60, 30)
            return self._value

    def reset(self) -> None:
        with self._lock:
            self._value = None


def http_date_days(value: str | None) -> date | None:
    """'2026-11-28T23:59:00' or '20261128' → a date (None when absent/unreadable)."""
    if not value:
        return None
    try:
        if len(value) == 8 and value.isdigit():
            return date(int(value[:4]), int(value[4:6]), int(value[6:]))
        return datetime.fromisoformat(value[:19]).date()
    except ValueError:
        return None
