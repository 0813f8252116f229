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


def get_gateway() -> PaymentGateway:
    """The gateway named by settings.PAYMENT_GATEWAY (a dotted path to a class)."""
    return import_string(settings.PAYMENT_GATEWAY)()
