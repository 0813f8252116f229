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

# Shipments (orders/shipments.py): split shipments, labels, tracking.
SHIPMENT_LABEL_PURCHASED = "ShipmentLabelPurchased"
SHIPMENT_LABEL_FAILED = "ShipmentLabelFailed"
SHIPMENT_TRACKING_UPDATED = "ShipmentTrackingUpdated"
SHIPMENT_CANCELLED = "ShipmentCancelled"
ORDER_PARTIALLY_SHIPPED = "OrderPartiallyShipped"
ORDER_UNSHIPPED = "OrderUnshipped"
# Returns (orders/returns.py).
RETURN_REQUESTED = "ReturnRequested"
RETURN_APPROVED = "ReturnApproved"
RETURN_REJECTED = "ReturnRejected"
RETURN_RECEIVED = "ReturnReceived"
ORDER_PARTIALLY_RETURNED = "OrderPartiallyReturned"
ORDER_RETURNED = "OrderReturned"

TRANSITIONS = {
    SHIPPING_ADDRESS_CHANGED: "update",
    ORDER_NOTES_CHANGED: "update",
    INVENTORY_RESERVED: "mark_reserved",
    INVENTORY_RESERVATION_FAILED: "record_reservation_failure",
    PAYMENT_AUTHORIZED: "mark_payment_authorized",
    PAYMENT_FAILED: "record_payment_failure",
    PAYMENT_CAPTURED: "mark_payment_captured",
    ORDER_CONFIRMED: "confirm",
    SHIPMENT_CREATED: "create_shipment",
    ORDER_SHIPPED: "ship",
    ORDER_PARTIALLY_SHIPPED: "ship_partially",
    ORDER_UNSHIPPED: "unship",
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
    RETURN_REQUESTED: "request_return",
    RETURN_APPROVED: "approve_return",
    RETURN_REJECTED: "reject_return",
    RETURN_RECEIVED: "receive_return",
    ORDER_PARTIALLY_RETURNED: "return_partially",
    ORDER_RETURNED: "return_fully",
}

# Data-only events (what the shipment did; the command checked the order's state).
SHIPMENT_FACTS = frozenset({SHIPMENT_LABEL_PURCHASED, SHIPMENT_LABEL_FAILED,
                            SHIPMENT_TRACKING_UPDATED, SHIPMENT_CANCELLED})
ALL = frozenset({ORDER_PLACED, *SHIPMENT_FACTS, *TRANSITIONS})
