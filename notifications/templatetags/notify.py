"""Filters for message templates: `{% load notify %}` then `{{ total|money:currency }}`."""

from decimal import Decimal, InvalidOperation

from django import template
from django.utils import formats

register = template.Library()


@register.filter
def money(value, currency: str = "") -> str:
    """A 2-place amount in the active language's format (12.50 / 12,50) and its currency."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    text = formats.number_format(amount, decimal_pos=2, use_l10n=True, force_grouping=True)
    return f"{text} {currency}".strip()
