from django.conf import settings
from django.utils.module_loading import import_string

from payments.gateways.base import (
    GatewayAuthenticationFailed,
    GatewayRefused,
    GatewayResult,
    GatewayTimeout,
    PaymentDeclined,
    PaymentGateway,
)

__all__ = ["GatewayAuthenticationFailed", "GatewayRefused", "GatewayResult", "GatewayTimeout",
           "PaymentDeclined", "PaymentGateway", "get_gateway"]

_current: tuple[tuple, PaymentGateway] | None = None


def get_gateway() -> PaymentGateway:
    """The gateway named by settings.PAYMENT_GATEWAY (a dotted path to a class), built once
    per configuration: an instance owns its HTTP connection pools, which must be reused
    across calls rather than rebuilt for each (tests that change the settings get a new one)."""
    global _current
    config = (settings.PAYMENT_GATEWAY, settings.PAYMENT_API_BASE_URL,
              settings.PAYMENT_API_KEY, settings.PAYMENT_API_TIMEOUT_SECONDS)
    current = _current
    if current is None or current[0] != config:
        current = _current = (config, import_string(settings.PAYMENT_GATEWAY)())
    return current[1]
