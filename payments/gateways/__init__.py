from django.conf import settings
from django.utils.module_loading import import_string

from payments.gateways.base import (
    GatewayResult,
    GatewayTimeout,
    PaymentDeclined,
    PaymentGateway,
)

__all__ = ["GatewayResult", "GatewayTimeout", "PaymentDeclined", "PaymentGateway",
           "get_gateway"]


_gateways: dict[tuple, PaymentGateway] = {}


def get_gateway() -> PaymentGateway:
    """The gateway named by settings.PAYMENT_GATEWAY (a dotted path to a class), one per
    process and configuration, so its HTTP connections are kept alive between calls."""
    key = (settings.PAYMENT_GATEWAY, getattr(settings, "PAYMENT_API_BASE_URL", None))
    gateway = _gateways.get(key)
    if gateway is None:
        gateway = _gateways[key] = import_string(settings.PAYMENT_GATEWAY)()
    return gateway
