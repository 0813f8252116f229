"""The payment gateway over Stripe's HTTP API (PaymentIntents with manual capture, Refunds).

Locally and in tests it talks to the simulator (`simulators/payments`, `python -m simulators
payments`); pointed at https://api.stripe.com with a real secret key it sends the same
requests to Stripe. Every mutating call carries our idempotency key as Stripe's
`Idempotency-Key` header (and in the object's metadata, for reconciliation), so a retry, ours
or the saga's, gets the processor's original answer instead of a second charge.

Errors: 402 `card_error` → PaymentDeclined (business refusal, not retried); other 4xx (an
intent in the wrong state, a refund above what is left, a key reused with other
parameters) → GatewayRefused; 401/403 → GatewayAuthenticationFailed (our configuration);
timeouts, connection errors, 429, 5xx and 409 `idempotency_key_in_use` are retried a bounded
number of times with the same key (commerce.core.http), then → GatewayTimeout (transient:
the outcome is unknown, so callers retry later with the same key).

Money: our Decimal amounts ↔ Stripe's integer minor units for two-decimal currencies only
(USD, EUR, GBP, …); zero- and three-decimal currencies are refused rather than mis-scaled."""

import logging
from decimal import Decimal

from django.conf import settings

from commerce.core.errors import ErrorCode, ValidationFailed
from commerce.core.http import (
    TRANSIENT_STATUSES,
    ExternalRefused,
    ExternalUnavailable,
    HttpService,
)
from payments.gateways.base import (
    GatewayAuthenticationFailed,
    GatewayRefused,
    GatewayResult,
    GatewayTimeout,
    PaymentDeclined,
    PaymentGateway,
)

logger = logging.getLogger(__name__)

# Stripe's currencies whose minor unit is not 1/100 (docs.stripe.com/currencies).
NOT_TWO_DECIMAL = frozenset({
    "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv",
    "xaf", "xof", "xpf", "bhd", "jod", "kwd", "omr", "tnd"})
CENT = Decimal("0.01")
AUTHORIZED = frozenset({"requires_capture", "succeeded", "canceled"})
NOT_AUTHORIZED = frozenset({"requires_payment_method", "requires_confirmation",
                            "requires_action"})


class StripeGateway(HttpService, PaymentGateway):
    name = "stripe"
    service = "payments"
    transient_statuses = TRANSIENT_STATUSES | {409}  # 409: the key's first request still runs

    def __init__(self, *, base_url: str | None = None, api_key: str | None = None,
                 timeout: float | None = None):
        timeout = settings.PAYMENT_API_TIMEOUT_SECONDS if timeout is None else timeout
        super().__init__(
            base_url=base_url or settings.PAYMENT_API_BASE_URL, timeout=timeout,
            connect_timeout=min(timeout, 2.0),
            headers={"Authorization": f"Bearer {api_key or settings.PAYMENT_API_KEY}"})

    # --- the interface ------------------------------------------------------------------------
    def authorize(self, *, amount, currency, payment_method, idempotency_key):
        intent = self._request("authorize", "POST", "/v1/payment_intents", key=idempotency_key,
                               data={
                                   "amount": to_minor_units(amount, currency),
                                   "currency": currency.lower(),
                                   "payment_method": payment_method,
                                   "payment_method_types[0]": "card",
                                   "confirm": "true",
                                   "capture_method": "manual",
                                   "metadata[idempotency_key]": idempotency_key,
                               })
        if intent["status"] in NOT_AUTHORIZED:  # e.g. requires_action: 3-D Secure we can't do
            raise PaymentDeclined(
                f"The processor did not authorize the payment (status {intent['status']}).",
                details={"decline_code": intent["status"], "reference": intent["id"]})
        if intent["status"] != "requires_capture":  # e.g. captured at once: a person must look
            raise GatewayRefused(
                f"The processor answered the authorization with status {intent['status']}.",
                details={"operation": "authorize", "reference": intent["id"],
                         "status": intent["status"], "idempotency_key": idempotency_key})
        return _result(intent, intent["amount"])

    def capture(self, *, reference, amount, idempotency_key):
        intent = self._request("capture", "POST", f"/v1/payment_intents/{reference}/capture",
                               key=idempotency_key,
                               data={"amount_to_capture": to_minor_units(amount)})
        return _result(intent, intent["amount_received"])

    def void(self, *, reference, idempotency_key):
        intent = self._request("void", "POST", f"/v1/payment_intents/{reference}/cancel",
                               key=idempotency_key)
        return _result(intent, intent["amount"])

    def refund(self, *, reference, amount, idempotency_key):
        refund = self._request("refund", "POST", "/v1/refunds", key=idempotency_key, data={
            "payment_intent": reference, "amount": to_minor_units(amount),
            "metadata[idempotency_key]": idempotency_key})
        return GatewayResult(reference=refund["payment_intent"], status=refund["status"],
                             amount=from_minor_units(refund["amount"]))

    # --- reconciliation ---------------------------------------------------------------------
    def find_authorization(self, *, idempotency_key: str) -> GatewayResult | None:
        """The authorization made under `idempotency_key` (its intent's current status and
        authorized amount), or None if the processor holds none: the request never
        arrived or was declined. For recovery after a crash between the call and our
        record. Stripe's search index lags writes (usually under a minute): a None right
        after the call means "not known yet"; repeating the original call with the same key
        (within Stripe's 24 hours) is the authoritative way to learn its outcome."""
        escaped = idempotency_key.replace("\\", "\\\\").replace("'", "\\'")
        found = self._request("find_authorization", "GET", "/v1/payment_intents/search",
                              params={"query": f"metadata['idempotency_key']:'{escaped}'"})
        for intent in found["data"]:
            if intent["status"] in AUTHORIZED and intent["last_payment_error"] is None:
                return _result(intent, intent["amount"])
        return None

    def find_refund(self, *, reference: str, idempotency_key: str) -> GatewayResult | None:
        """The refund of intent `reference` made under `idempotency_key`, or None."""
        listed = self._request("find_refund", "GET", "/v1/refunds",
                               params={"payment_intent": reference, "limit": 100})
        for refund in listed["data"]:
            if refund["metadata"].get("idempotency_key") == idempotency_key:
                return GatewayResult(reference=reference, status=refund["status"],
                                     amount=from_minor_units(refund["amount"]))
        return None

    # --- HTTP ---------------------------------------------------------------------------------
    def _request(self, operation: str, method: str, path: str, *, key: str | None = None,
                 data: dict | None = None, params: dict | None = None) -> dict:
        try:
            response = self.call(operation, method, path, data=data, params=params,
                                 headers={"Idempotency-Key": key} if key else None)
            return response.json()
        except ExternalRefused as exc:
            raise _refusal(exc, operation, key) from exc
        except ExternalUnavailable as exc:
            raise GatewayTimeout(details={"operation": operation, "idempotency_key": key,
                                          "error": exc.details.get("error")}) from exc
        except ValueError as exc:  # a 2xx that is not JSON: not the processor we expect
            raise GatewayTimeout("The payment processor answered something unreadable.",
                                 details={"operation": operation}) from exc


def _refusal(exc: ExternalRefused, operation: str, key: str | None) -> Exception:
    error = exc.body.get("error", {}) if isinstance(exc.body, dict) else {}
    message = error.get("message") or str(exc)
    details = {"operation": operation, "status": exc.status, "type": error.get("type"),
               "code": error.get("code"), "idempotency_key": key}
    if exc.status == 402 or error.get("type") == "card_error":
        intent = error.get("payment_intent") or {}
        return PaymentDeclined(message, details={
            "decline_code": error.get("decline_code") or error.get("code") or "card_declined",
            "reference": intent.get("id")})
    if exc.status in (401, 403):
        logger.error("payment processor rejected our credentials: %s", message)
        return GatewayAuthenticationFailed(details=details)
    if error.get("type") == "idempotency_error":
        return GatewayRefused(message, details=details, code=ErrorCode.IDEMPOTENCY_KEY_REUSED)
    return GatewayRefused(message, details=details)


def _result(intent: dict, minor_units: int) -> GatewayResult:
    return GatewayResult(reference=intent["id"], status=intent["status"],
                         amount=from_minor_units(minor_units))


def to_minor_units(amount: Decimal, currency: str | None = None) -> int:
    """Decimal('25.50') → 2550. Refuses amounts finer than a cent and currencies whose
    minor unit is not a hundredth (we would charge 100× too much or too little)."""
    if currency is not None and currency.lower() in NOT_TWO_DECIMAL:
        raise ValidationFailed(f"Currency {currency.upper()} is not supported: the payment "
                               f"gateway handles two-decimal currencies only.",
                               details={"currency": currency})
    cents = Decimal(amount) * 100
    if cents != cents.to_integral_value():
        raise ValidationFailed("Amounts are whole cents.", details={"amount": str(amount)})
    return int(cents)


def from_minor_units(minor_units: int) -> Decimal:
    """2550 → Decimal('25.50')."""
    return Decimal(int(minor_units)).scaleb(-2).quantize(CENT)
