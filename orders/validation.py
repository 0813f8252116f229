"""Input checks of the order commands. The services run them (the cart and sagas call the
services directly); the API only checks JSON shapes first. Errors use the envelope's
field-details shape: {"field": ["message", ...]} and, for lists, one dict per item."""

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings

from commerce.core.errors import ErrorCode, ValidationFailed
from inventory.errors import InsufficientStock

ADDRESS_FIELDS = {  # name → (required, max length)
    "name": (True, 200),
    "line1": (True, 200),
    "line2": (False, 200),
    "city": (True, 100),
    "region": (False, 100),
    "postal_code": (True, 20),
    "country": (True, 2),
    "phone": (False, 40),
}
_COUNTRY = re.compile(r"^[A-Z]{2}$")
NOTES_MAX_LENGTH = 2000
REASON_MAX_LENGTH = 500


def clean_address(value: Any) -> dict[str, str]:
    """A normalised shipping address, or ValidationFailed naming every bad field."""
    if not isinstance(value, dict):
        raise ValidationFailed(details={"shipping_address": ["Must be an object."]})
    errors: dict[str, list[str]] = {}
    clean: dict[str, str] = {}
    for key in value:
        if key not in ADDRESS_FIELDS:
            errors.setdefault(str(key)[:50], []).append("Unknown field.")
    for key, (required, max_length) in ADDRESS_FIELDS.items():
        raw = value.get(key)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if required:
                errors.setdefault(key, []).append("This field is required.")
            continue
        if not isinstance(raw, str):
            errors.setdefault(key, []).append("Must be a string.")
            continue
        text = raw.strip()
        if len(text) > max_length:
            errors.setdefault(key, []).append(f"At most {max_length} characters.")
            continue
        if key == "country":
            text = text.upper()
            if not _COUNTRY.match(text):
                errors.setdefault(key, []).append("An ISO 3166-1 alpha-2 code, e.g. 'DE'.")
                continue
        clean[key] = text
    if errors:
        raise ValidationFailed(details={"shipping_address": errors})
    return clean


def clean_lines(value: Any) -> list[dict[str, Any]]:
    """[{sku, quantity}] with duplicate skus merged (in first-seen order)."""
    max_lines = settings.ORDER_MAX_LINES
    max_qty = settings.ORDER_MAX_QUANTITY_PER_LINE
    if not isinstance(value, list) or not value:
        raise ValidationFailed(details={"lines": ["At least one line is required."]})
    if len(value) > max_lines:
        raise ValidationFailed(details={"lines": [f"At most {max_lines} lines."]})
    errors: list[dict[str, list[str]]] = []
    merged: dict[str, int] = {}
    for line in value:
        err: dict[str, list[str]] = {}
        if not isinstance(line, dict):
            errors.append({"non_field_errors": ["Must be an object with sku and quantity."]})
            continue
        sku, qty = line.get("sku"), line.get("quantity")
        if not isinstance(sku, str) or not sku.strip() or len(sku) > 255:
            err["sku"] = ["A sku of 1 to 255 characters is required."]
        if isinstance(qty, bool) or not isinstance(qty, int):
            err["quantity"] = ["An integer is required."]
        elif not 1 <= qty <= max_qty:
            err["quantity"] = [f"Must be between 1 and {max_qty}."]
        errors.append(err)
        if not err:
            merged[sku.strip()] = merged.get(sku.strip(), 0) + qty
    if any(errors):
        raise ValidationFailed(details={"lines": errors})
    over = [sku for sku, qty in merged.items() if qty > max_qty]
    if over:
        raise ValidationFailed(
            details={"lines": [f"Total quantity of {sku} exceeds {max_qty}." for sku in over]})
    return [{"sku": sku, "quantity": qty} for sku, qty in merged.items()]


def clean_text(value: Any, field: str, *, max_length: int, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationFailed(details={field: ["Must be a string."]})
    value = value.strip()
    if required and not value:
        raise ValidationFailed(details={field: ["This field is required."]})
    if len(value) > max_length:
        raise ValidationFailed(details={field: [f"At most {max_length} characters."]})
    return value


def stock_errors(lines, catalog) -> None:
    """Placement's up-front availability check, from the catalog lookup placement already
    made (no extra query): every short line → 409 `insufficient_stock` naming the sku, the
    quantity requested and what is available. A courtesy only: stock can go between this
    check and the saga's reservation, which stays the guarantee (all-or-nothing, locked)."""
    short = [{"sku": line["sku"], "requested": line["quantity"],
              "available": max(catalog[line["sku"]].available, 0)}
             for line in lines if line["quantity"] > catalog[line["sku"]].available]
    if short:
        raise InsufficientStock(
            "Not enough stock: " + ", ".join(f"{s['sku']} ({s['available']} available)"
                                             for s in short) + ".",
            details={"lines": short})


def catalog_errors(lines, catalog) -> None:
    """Unknown or inactive skus → ValidationFailed with per-line details."""
    unknown = [{"sku": ["Unknown sku."]} if line["sku"] not in catalog else {} for line in lines]
    if any(unknown):
        raise ValidationFailed("One or more skus do not exist.", code=ErrorCode.UNKNOWN_SKU,
                               details={"lines": unknown})
    inactive = [{} if catalog[line["sku"]].active else {"sku": ["No longer sold."]}
                for line in lines]
    if any(inactive):
        raise ValidationFailed("One or more skus are not sold any more.",
                               code=ErrorCode.INACTIVE_SKU, details={"lines": inactive})
    currencies = {catalog[line["sku"]].currency for line in lines}
    if len(currencies) > 1:
        raise ValidationFailed("All lines of an order must share one currency.",
                               details={"lines": [f"Mixed currencies: {sorted(currencies)}."]})


_OPTION_TEXT = {"quote_id": 100, "carrier": 20, "service_level": 20, "service_code": 40,
                "service_name": 100}


def clean_shipping_option(value: Any, *, currency: str) -> dict[str, str] | None:
    """The chosen shipping option as the order keeps it (a redeemed quote from the shipping
    app), or None. Its currency must be the order's."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ValidationFailed(details={"shipping_option": ["Must be an object."]})
    option = {key: str(value.get(key) or "")[:size] for key, size in _OPTION_TEXT.items()}
    try:
        price = Decimal(str(value.get("price"))).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        price = None
    if price is None or not price.is_finite() or price < 0 or not option["carrier"]:
        raise ValidationFailed(details={"shipping_option": ["A carrier and a price are "
                                                            "required."]})
    if value.get("currency") != currency:
        raise ValidationFailed(
            "The shipping option is priced in another currency than the order.",
            details={"shipping_option": [f"Must be priced in {currency}."]})
    return {**option, "price": str(price), "currency": currency}
