"""Input checks shared by the services (the API serializers check shapes first; services
check again because sagas and other apps call them directly)."""

import re
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

SKU_MAX_LENGTH = 255
SKU_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$")
# A product id is the catalog service's identifier (e.g. "prod_8f3a2c", or a UUID):
# 1-255 printable characters without spaces.
PRODUCT_ID_MAX_LENGTH = 255
PRODUCT_ID_PATTERN = re.compile(r"^[!-~\u00a1-\uffff]{1,255}$")
CURRENCY_PATTERN = re.compile(r"^[A-Z]{3}$")
MAX_PRICE = Decimal("9999999999.99")  # fits DecimalField(12, 2)
MAX_QUANTITY = 1_000_000_000  # far below int4's limit, so sums cannot overflow


class Errors(dict):
    """Field → list of messages, the shape of the envelope's `details`."""

    def add(self, field: str, message: str) -> None:
        self.setdefault(field, []).append(message)


def clean_sku(value: Any, errors: Errors, field: str = "sku") -> str:
    sku = value.strip() if isinstance(value, str) else ""
    if not SKU_PATTERN.match(sku):
        errors.add(field, "Use 1-255 letters, digits, '.', '_' or '-', starting with a letter "
                          "or digit.")
    return sku


def clean_product_id(value: Any, errors: Errors, field: str = "product_id") -> str:
    """The catalog service's product id as a string (a UUID passed as such is kept in its
    canonical text form, so ids created before ids became strings still match)."""
    if isinstance(value, uuid.UUID):
        return str(value)
    text = value.strip() if isinstance(value, str) else ""
    if not PRODUCT_ID_PATTERN.match(text) or not _encodable(text):
        errors.add(field, "1-255 printable characters without spaces, e.g. 'prod_8f3a2c'.")
    return text


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates
        return False
    return True


def clean_price(value: Any, errors: Errors, field: str = "price") -> Decimal | None:
    if isinstance(value, bool) or value is None:
        errors.add(field, "A decimal number is required.")
        return None
    try:
        price = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        errors.add(field, "A decimal number is required.")
        return None
    if not price.is_finite():
        errors.add(field, "A decimal number is required.")
    elif price < 0:
        errors.add(field, "Must not be negative.")
    elif price > MAX_PRICE:
        errors.add(field, f"Must be at most {MAX_PRICE}.")
    elif price.as_tuple().exponent < -2 and price != price.quantize(Decimal("0.01")):
        errors.add(field, "At most 2 decimal places.")
    else:
        return price.quantize(Decimal("0.01"))
    return None


def clean_currency(value: Any, errors: Errors, field: str = "currency") -> str:
    if not isinstance(value, str) or not CURRENCY_PATTERN.match(value):
        errors.add(field, "A 3-letter uppercase ISO 4217 code is required.")
        return ""
    return value


def clean_int(value: Any, errors: Errors, field: str, *, minimum: int,
              maximum: int = MAX_QUANTITY) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        errors.add(field, "An integer is required.")
        return 0
    if value < minimum:
        errors.add(field, f"Must be at least {minimum}.")
    elif value > maximum:
        errors.add(field, f"Must be at most {maximum}.")
    return value


def clean_uuid(value: Any, errors: Errors, field: str) -> uuid.UUID | None:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        errors.add(field, "A valid UUID is required.")
        return None


def clean_text(value: Any, errors: Errors, field: str, *, max_length: int,
               required: bool = True) -> str:
    text = value.strip() if isinstance(value, str) else None
    if text is None or (required and not text):
        errors.add(field, "This field is required.")
        return ""
    if len(text) > max_length:
        errors.add(field, f"At most {max_length} characters.")
    return text


# Shipping measures of one packed unit: (max digits, decimal places, upper bound).
MEASURES = {"weight_kg": (8, 3, Decimal("99999.999")), "length_cm": (6, 1, Decimal("99999.9")),
            "width_cm": (6, 1, Decimal("99999.9")), "height_cm": (6, 1, Decimal("99999.9"))}


def clean_measures(errors: Errors, **values: Any) -> dict[str, Decimal | None]:
    """Weight (kg, 3 places) and dimensions (cm, 1 place): positive decimals or None."""
    cleaned: dict[str, Decimal | None] = {}
    for field, value in values.items():
        _, places, upper = MEASURES[field]
        if value is None:
            cleaned[field] = None
            continue
        try:
            number = Decimal(str(value).strip()) if not isinstance(value, bool) else None
        except (InvalidOperation, ValueError):
            number = None
        step = Decimal(1).scaleb(-places)
        if number is None or not number.is_finite():
            errors.add(field, "A decimal number is required.")
        elif number <= 0 or number > upper:
            errors.add(field, f"Must be greater than 0 and at most {upper}.")
        elif number != number.quantize(step):
            errors.add(field, f"At most {places} decimal places.")
        else:
            cleaned[field] = number.quantize(step)
            continue
        cleaned[field] = None
    return cleaned
