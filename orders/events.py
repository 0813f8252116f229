"""Order event types (aggregate type "Order", one stream per order).

Event data is JSON: money as 2-place strings, ids as strings. `TRANSITIONS` maps each event
to the lifecycle transition it embodies (orders/lifecycle.py): applying the event runs that
transition on the aggregate's state machine, and the projection takes the new status from
the same declaration. Events absent from it carry data only (their command checked the
transition of the event recorded with them)."""

ORDER = "Order"

ORDER_PLACED = "OrderPlaced"
SHIPPING_ADDRESS_CHANGED = "ShippingAddressChanged"
ORDER_NOTES_CHANGED = "OrderNotesChanged"
INVENTORY_RESERVED = "InventoryReserved"
INVENTORY_RESERVATION_FAILED = "InventoryReservationFailed"
PAYMENT_AUTHORIZED = "PaymentAuthorized"
PAYMENT_FAILED = "PaymentFailed"
PAYMENT_CAPTURED = "PaymentCaptured"
ORDER_CONFIRMED = "OrderConfirmed"
SHIPMENT_CREATED = "ShipmentCreated"
ORDER_SHIPPED = "OrderShipped"
ORDER_DELIVERED = "OrderDelivered"
ORDER_COMPLETED = "OrderCompleted"
CANCELLATION_REQUESTED = "CancellationRequested"
CANCELLATION_REJECTED = "CancellationRejected"
ORDER_CANCELLED = "OrderCancelled"
REFUND_REQUESTED = "RefundRequested"
REFUND_ISSUED = "RefundIssued"
REFUND_FAILED = "RefundFailed"
ORDER_REFUNDED = "OrderRefunded"
ORDER_FAILED = "OrderFailed"
ORDER_ARCHIVED = "OrderArchived"

TRANSITIONS = {
    SHIPPING_ADDRESS_CHANGED: "update",
    ORDER_NOTES_CHANGED: "update",
    INVENTORY_RESERVED: "mark_reserved",
    INVENTORY_RESERVATION_FAILED: "record_reservation_failure",
    PAYMENT_AUTHORIZED: "mark_payment_authorized",
    PAYMENT_FAILED: "record_payment_failure",
    PAYMENT_CAPTURED: "mark_payment_captured",
    ORDER_CONFIRMED: "confirm",
    ORDER_SHIPPED: "ship",
    ORDER_DELIVERED: "deliver",
    ORDER_COMPLETED: "complete",
    CANCELLATION_REQUESTED: "request_cancellation",
    CANCELLATION_REJECTED: "reject_cancellation",
    ORDER_CANCELLED: "cancel",
    REFUND_REQUESTED: "request_refund",
    REFUND_ISSUED: "record_refund",
    REFUND_FAILED: "record_refund_failure",
    ORDER_REFUNDED: "refund",
    ORDER_FAILED: "fail",
    ORDER_ARCHIVED: "archive",
}

ALL = frozenset({ORDER_PLACED, SHIPMENT_CREATED, *TRANSITIONS})
