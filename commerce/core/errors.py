"""Domain errors: what services raise. The API layer turns each into the error envelope
{"error": {"code", "message", "details"}} with the HTTP status declared here, so services
never import DRF and every client mistake gets a stable code instead of a 500."""

from enum import StrEnum


class ErrorCode(StrEnum):
    # generic HTTP-level codes
    VALIDATION_ERROR = "validation_error"
    PARSE_ERROR = "parse_error"
    NOT_AUTHENTICATED = "not_authenticated"
    AUTHENTICATION_FAILED = "authentication_failed"
    PERMISSION_DENIED = "permission_denied"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    NOT_ACCEPTABLE = "not_acceptable"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    THROTTLED = "throttled"
    BAD_REQUEST = "bad_request"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    URI_TOO_LONG = "uri_too_long"
    CONFLICT = "conflict"
    CONCURRENCY_CONFLICT = "concurrency_conflict"
    PRECONDITION_FAILED = "precondition_failed"
    PRECONDITION_REQUIRED = "precondition_required"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    SERVICE_UNAVAILABLE = "service_unavailable"
    INTERNAL_ERROR = "internal_error"
    # domain codes
    EMAIL_TAKEN = "email_taken"
    INVALID_TRANSITION = "invalid_transition"
    INSUFFICIENT_STOCK = "insufficient_stock"
    UNKNOWN_SKU = "unknown_sku"
    INACTIVE_SKU = "inactive_sku"
    DUPLICATE_SKU = "duplicate_sku"
    RESERVATION_NOT_FOUND = "reservation_not_found"
    INVALID_RESERVATION_STATE = "invalid_reservation_state"
    CART_EMPTY = "cart_empty"
    CART_LIMIT_EXCEEDED = "cart_limit_exceeded"
    CART_UNAVAILABLE = "cart_unavailable"
    PAYMENT_DECLINED = "payment_declined"
    APPROVAL_REQUIRED = "approval_required"
    PAYMENT_GATEWAY_TIMEOUT = "payment_gateway_timeout"
    PAYMENT_GATEWAY_UNAUTHORIZED = "payment_gateway_unauthorized"
    INVALID_PAYMENT_STATE = "invalid_payment_state"
    INVALID_SAGA_STATE = "invalid_saga_state"
    # shipping and returns
    CARRIER_REFUSED = "carrier_refused"
    SHIPMENT_NOT_CANCELLABLE = "shipment_not_cancellable"
    SHIPPING_QUOTE_INVALID = "shipping_quote_invalid"
    SHIPPING_QUOTE_EXPIRED = "shipping_quote_expired"
    SHIPPING_QUOTE_REQUIRED = "shipping_quote_required"
    WEBHOOK_SIGNATURE_INVALID = "webhook_signature_invalid"
    RETURN_WINDOW_CLOSED = "return_window_closed"
    INVALID_RETURN_STATE = "invalid_return_state"
    REFUND_EXCEEDS_REFUNDABLE = "refund_exceeds_refundable"
    INVALID_SIGNATURE = "invalid_signature"
    UNSUBSCRIBE_LINK_INVALID = "unsubscribe_link_invalid"
    UNSUBSCRIBE_LINK_USED = "unsubscribe_link_used"


class DomainError(Exception):
    """Base for business refusals. Subclasses set `code` and `http_status`."""

    code: ErrorCode = ErrorCode.CONFLICT
    http_status: int = 409
    default_message = "The request conflicts with the current state."

    def __init__(self, message: str | None = None, *, details: dict | None = None,
                 code: ErrorCode | None = None):
        self.message = message or self.default_message
        self.details = details or {}
        if code is not None:
            self.code = code
        super().__init__(self.message)


class ValidationFailed(DomainError):
    code = ErrorCode.VALIDATION_ERROR
    http_status = 400
    default_message = "The request is invalid."


class NotFound(DomainError):
    code = ErrorCode.NOT_FOUND
    http_status = 404
    default_message = "Not found."


class Conflict(DomainError):
    code = ErrorCode.CONFLICT
    http_status = 409


class ConcurrencyError(DomainError):
    """Someone else changed the aggregate first (UNIQUE(aggregate_id, version) clash)."""

    code = ErrorCode.CONCURRENCY_CONFLICT
    http_status = 409
    default_message = "The resource was changed by another request; reload and retry."


class PreconditionFailed(DomainError):
    code = ErrorCode.PRECONDITION_FAILED
    http_status = 412
    default_message = "The resource version does not match If-Match."


class ServiceUnavailable(DomainError):
    code = ErrorCode.SERVICE_UNAVAILABLE
    http_status = 503
    default_message = "A backing service is unavailable; retry later."
