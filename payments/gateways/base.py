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


class GatewayRefused(DomainError):
    """The processor refused the operation for the charge's state (e.g. capture after void)."""

    code = ErrorCode.INVALID_PAYMENT_STATE
    http_status = 409
    default_message = "The payment processor refused the operation for this charge."


@dataclass(frozen=True)
class GatewayResult:
    reference: str          # the processor's charge id
    status: str             # the processor's charge status after the call
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

    @abc.abstractmethod
    def find_authorization(self, *, idempotency_key: str) -> GatewayResult | None:
        """The authorization the processor made for this key, if any (reconciliation after
        a crash: asks without authorizing anything)."""
