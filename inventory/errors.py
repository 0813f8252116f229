"""Inventory refusals (rendered by the kernel's error envelope)."""

from commerce.core.errors import Conflict, ErrorCode, NotFound, ValidationFailed


class InsufficientStock(Conflict):
    """details = {"lines": [{"sku", "requested", "available"}]} for every short line."""

    code = ErrorCode.INSUFFICIENT_STOCK
    default_message = "Not enough stock for one or more lines."


class InvalidReservationState(Conflict):
    code = ErrorCode.INVALID_RESERVATION_STATE
    default_message = "The reservation cannot do that in its current state."


class UnknownSku(ValidationFailed):
    code = ErrorCode.UNKNOWN_SKU
    default_message = "Unknown sku."


class DuplicateSku(ValidationFailed):
    code = ErrorCode.DUPLICATE_SKU
    default_message = "An item with this sku already exists."


class ItemNotFound(NotFound):
    default_message = "No stock item with this sku."


class ReservationNotFound(NotFound):
    code = ErrorCode.RESERVATION_NOT_FOUND
    default_message = "Reservation not found."
