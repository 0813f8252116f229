"""Business metrics, exported at /metrics next to django-prometheus' own. Declared in one
place so names stay consistent; every app increments these, none declares its own.

Web and Celery processes increment them, so with PROMETHEUS_MULTIPROC_DIR set (make run,
docker compose) every process writes to that directory and /metrics adds them up
(prometheus-client multiprocess mode); gauges declare how processes combine."""

from prometheus_client import Counter, Gauge, Histogram

EVENTS_APPENDED = Counter(
    "commerce_events_appended_total", "Events stored", ["aggregate_type"]
)
EVENT_CONFLICTS = Counter(
    "commerce_event_conflicts_total", "Appends refused by the version guard", ["aggregate_type"]
)
OUTBOX_PUBLISHED = Counter("commerce_outbox_published_total", "Outbox rows published")
OUTBOX_FAILURES = Counter("commerce_outbox_failures_total", "Outbox publish failures")
OUTBOX_PENDING = Gauge("commerce_outbox_pending", "Unpublished outbox rows at last relay",
                       multiprocess_mode="mostrecent")

ORDERS_PLACED = Counter("commerce_orders_placed_total", "Orders placed", ["channel"])
ORDER_TRANSITIONS = Counter(
    "commerce_order_transitions_total", "Order state changes", ["to_status"]
)
STOCK_CONFLICTS = Counter(
    "commerce_stock_conflicts_total", "Reservations refused for insufficient stock"
)
RESERVATIONS = Counter(
    "commerce_reservations_total", "Reservation lifecycle operations", ["action"]
)
RESERVATION_EXPIRIES = Counter(
    "commerce_reservation_expiries_total", "Reservations released by expiry"
)
CART_EVENTS = Counter("commerce_cart_events_total", "Cart events", ["event"])
CHECKOUTS = Counter("commerce_checkouts_total", "Checkout outcomes", ["outcome"])
SAGA_OUTCOMES = Counter("commerce_saga_outcomes_total", "Finished sagas", ["saga_type", "status"])
SAGA_COMPENSATIONS = Counter(
    "commerce_saga_compensations_total", "Compensating steps run", ["saga_type", "step"]
)
SAGA_STEP_SECONDS = Histogram(
    "commerce_saga_step_seconds", "Saga step duration", ["saga_type", "step"]
)
PAYMENTS = Counter("commerce_payments_total", "Payment gateway calls", ["action", "outcome"])

# Outbound calls to third parties (commerce/core/http.py), by adapter and outcome
# (ok, refused, timeout, connect_error, server_error).
EXTERNAL_CALLS = Counter(
    "commerce_external_calls_total", "Calls to external services", ["service", "operation",
                                                                     "outcome"]
)
EXTERNAL_CALL_SECONDS = Histogram(
    "commerce_external_call_seconds", "Latency of calls to external services",
    ["service", "operation"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
WAKEUP_FAILURES = Counter(
    "commerce_wakeup_failures_total",
    "After-commit wake-ups that could not be queued (broker down); beat does the work later",
    ["task"],
)

# Consumers of the commerce:events stream (notifications/stream.py), by consumer group and
# outcome (handled, duplicate, failed, claimed, dead_lettered).
STREAM_ENTRIES = Counter(
    "commerce_stream_entries_total", "Stream entries seen by consumer groups",
    ["group", "outcome"]
)
# Notification deliveries entering each state (queued, sent, delivered, failed, bounced).
NOTIFICATIONS = Counter(
    "commerce_notifications_total", "Notification deliveries by channel and state",
    ["channel", "state"]
)
# Outbound webhook attempts by outcome (delivered, failed, disabled) and their latency.
WEBHOOK_ATTEMPTS = Counter(
    "commerce_webhook_attempts_total", "Webhook delivery attempts", ["outcome"]
)
WEBHOOK_ATTEMPT_SECONDS = Histogram(
    "commerce_webhook_attempt_seconds", "Latency of webhook delivery attempts",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)

# Shipping (shipping app): labels bought per carrier and kind (shipment, return) and outcome
# (ok, refused, unavailable); tracking events recorded per carrier and source (webhook,
# poll); carrier webhooks received per outcome (recorded, duplicate, unknown, rejected).
SHIPPING_LABELS = Counter(
    "commerce_shipping_labels_total", "Carrier labels bought", ["carrier", "kind", "outcome"]
)
SHIPPING_TRACKING_EVENTS = Counter(
    "commerce_shipping_tracking_events_total", "Tracking events recorded", ["carrier", "source"]
)
SHIPPING_WEBHOOKS = Counter(
    "commerce_shipping_webhooks_total", "Carrier webhooks received", ["carrier", "outcome"]
)
RETURNS = Counter("commerce_returns_total", "Return (RMA) decisions and receipts", ["action"])
