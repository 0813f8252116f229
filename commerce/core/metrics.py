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
# --- money and outcomes, counted from order events after commit (orders/metrics.py) ------
PAYMENTS_CAPTURED_AMOUNT = Counter(
    "commerce_payments_captured_amount_total", "Money captured (the orders' currency)"
)
REFUNDS_AMOUNT = Counter("commerce_refunds_amount_total", "Money refunded")
ORDERS_FAILED = Counter(
    "commerce_orders_failed_total", "Orders failed, by code (payment_declined and "
    "insufficient_stock are business refusals, anything else is an incident)", ["code"]
)
ORDER_CONFIRM_SECONDS = Histogram(
    "commerce_order_confirm_seconds", "Time from OrderPlaced to OrderConfirmed",
    buckets=(0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0),
)

# --- process supervision (ops/celery.py, the relay command) ---------------------------------
# Wall-clock time of the last heartbeat: a worker's consumer loop, beat's scheduler loop.
WORKER_HEARTBEAT = Gauge(
    "commerce_worker_heartbeat_timestamp_seconds", "Last heartbeat of a Celery worker",
    ["worker"], multiprocess_mode="max",
)
BEAT_HEARTBEAT = Gauge(
    "commerce_beat_heartbeat_timestamp_seconds", "Last tick of the beat scheduler",
    multiprocess_mode="max",
)
RELAY_HEARTBEAT = Gauge(
    "commerce_relay_heartbeat_timestamp_seconds", "Last loop of a dedicated outbox relay",
    multiprocess_mode="max",
)
CONSUMER_HEARTBEAT = Gauge(
    "commerce_consumer_heartbeat_timestamp_seconds",
    "Last successful poll of a stream consumer (notifications/stream.py)", ["group"],
    multiprocess_mode="max",
)
CELERY_TASKS = Counter(
    "commerce_celery_tasks_total", "Celery tasks finished, by outcome", ["task", "outcome"]
)

# --- operator gauges, computed in one place by the beat process (ops/gauges.py) -------
_LATEST = {"multiprocess_mode": "mostrecent"}
OPS_COLLECTED = Gauge("commerce_ops_collected_timestamp_seconds",
                      "When the operator gauges were last computed", **_LATEST)
OPS_COLLECT_ERRORS = Counter("commerce_ops_collect_errors_total",
                             "Operator gauge computations that failed", ["check"])
DEPENDENCY_UP = Gauge("commerce_dependency_up", "PostgreSQL / Redis answered the last check",
                      ["dependency"], **_LATEST)
ORDER_OLDEST_OPEN_AGE = Gauge(
    "commerce_order_oldest_open_age_seconds",
    "Age of the oldest order not yet confirmed, failed or cancelled", **_LATEST)
ORDERS_OPEN = Gauge("commerce_orders_open", "Orders not yet confirmed, failed or cancelled",
                    ["status"], **_LATEST)
SAGAS = Gauge("commerce_sagas", "Sagas that are not finished, by status (FAILED needs a "
              "person)", ["saga_type", "status"], **_LATEST)
SAGA_OLDEST_AGE = Gauge("commerce_saga_oldest_age_seconds",
                        "Age of the oldest unfinished saga, by status", ["status"], **_LATEST)
OUTBOX_OLDEST_PENDING_AGE = Gauge("commerce_outbox_oldest_pending_age_seconds",
                                  "Age of the oldest unpublished outbox row", **_LATEST)
QUEUE_DEPTH = Gauge("commerce_queue_depth", "Messages waiting in a Celery queue", ["queue"],
                    **_LATEST)
QUEUE_OLDEST_AGE = Gauge("commerce_queue_oldest_age_seconds",
                         "Age of the oldest message waiting in a Celery queue", ["queue"],
                         **_LATEST)
INVENTORY_DRIFT = Gauge("commerce_inventory_drift_items",
                        "Stock counters that disagree with the facts (scheduled "
                        "inventory_verify)", **_LATEST)
INVENTORY_MISMATCHES = Gauge("commerce_inventory_reservation_mismatches",
                             "Reservations that disagree with their orders (inventory_verify)",
                             **_LATEST)
INVENTORY_VERIFIED = Gauge("commerce_inventory_verified_timestamp_seconds",
                           "When inventory_verify last ran", **_LATEST)
LOW_STOCK_ITEMS = Gauge("commerce_low_stock_items",
                        "Active items at or below their low-stock threshold", **_LATEST)
DB_CONNECTIONS = Gauge("commerce_db_connections", "PostgreSQL server connections by state",
                       ["state"], **_LATEST)
DB_MAX_CONNECTIONS = Gauge("commerce_db_max_connections",
                           "Connections PostgreSQL accepts (max_connections minus reserved)",
                           **_LATEST)
REDIS_MEMORY_USED = Gauge("commerce_redis_memory_used_bytes", "Redis used_memory", **_LATEST)
REDIS_MEMORY_MAX = Gauge("commerce_redis_memory_max_bytes", "Redis maxmemory (0: no limit)",
                         **_LATEST)


def serve_from_env() -> int | None:
    """For processes without a web server (worker, beat, relay, consumers): serve this
    host's metrics on METRICS_PORT (CELERY_METRICS_PORT is the older name) so Prometheus can
    scrape each pod. With PROMETHEUS_MULTIPROC_DIR set, every process writing to that
    directory is added up (a prefork worker's children). Returns the port, or None."""
    import os

    from prometheus_client import REGISTRY, CollectorRegistry, multiprocess, start_http_server

    port = os.environ.get("METRICS_PORT") or os.environ.get("CELERY_METRICS_PORT")
    if not port:
        return None
    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    start_http_server(int(port), addr=os.environ.get("METRICS_ADDR", "0.0.0.0"),
                      registry=registry)
    return int(port)

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
