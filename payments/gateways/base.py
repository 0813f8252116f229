"""The payment gateway interface. Every call carries an idempotency key: the processor
returns the original answer for a key it has seen, so a retry never charges twice."""

import abc
from dataclasses import dataclass
from decimal import Decimal

from commerce.core.errors import DomainError, ErrorCode, ServiceUnavailable


class PaymentDeclined(DomainError):
    """A business refusal by the processor (card declined): retrying will not help."""

    code = ErrorCode.PAYMENT_DECLINED
    http_status = 402
    default_message = "The payment was declined."


class GatewayTimeout(ServiceUnavailable):
    """The processor did not answer in time: the outcome is unknown, so callers retry with
    the same idempotency key (transient)."""

    code = ErrorCode.PAYMENT_GATEWAY_TIMEOUT
    default_message = "The payment processor did not answer in time."


class GatewayAuthenticationFailed(ServiceUnavailable):
    """The processor rejected our credentials (401/403): a configuration fault on our side
    (PAYMENT_API_KEY), not the customer's. Transient for callers, so orders wait for the fix
    (within their retries) instead of failing as declined."""

    code = ErrorCode.PAYMENT_GATEWAY_UNAUTHORIZED
    default_message = ("The payment processor rejected our API key; check PAYMENT_API_KEY "
                       "and PAYMENT_API_BASE_URL.")


class GatewayRefused(DomainError):
    """The processor refused the operation for the charge's state (e.g. capture after void)."""

    code = ErrorCode.INVALID_PAYMENT_STATE
    http_status = 409
    default_message = "The payment processor refused the operation for this charge."


@dataclass(frozen=True)
class GatewayResult:
    reference: str          # the processor's charge id
    status: str             # the processor's status after the call (Stripe: requires_capture,
                            # succeeded, canceled; a refund's own status)
    amount: Decimal         # the amount this call moved (authorized, captured, refunded…)


class PaymentGateway(abc.ABC):
    name: str = "gateway"

    @abc.abstractmethod
    def authorize(self, *, amount: Decimal, currency: str, payment_method: str,
                  idempotency_key: str) -> GatewayResult: ...

    @abc.abstractmethod
    def capture(self, *, reference: str, amount: Decimal,
                idempotency_key: str) -> GatewayResult: ...

    @abc.abstractmethod
    def void(self, *, reference: str, idempotency_key: str) -> GatewayResult: ...

    @abc.abstractmethod
    def refund(self, *, reference: str, amount: Decimal,
               idempotency_key: str) -> GatewayResult: ...

    # Reconciliation after a crash between a call and its record: what did the processor do
    # under this idempotency key? None when it holds no such authorization / refund.
    @abc.abstractmethod
    def find_authorization(self, *, idempotency_key: str) -> GatewayResult | None: ...

    @abc.abstractmethod
    def find_refund(self, *, reference: str,
                    idempotency_key: str) -> GatewayResult | None: ...
