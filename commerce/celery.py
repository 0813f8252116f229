"""The Celery app. Settings come from Django (CELERY_* in commerce/settings); the beat
schedule is declared here so it is versioned with the code that it runs."""

import os
import time

from celery import Celery, signals
from prometheus_client import multiprocess

from commerce.core import context
from commerce.core.broker import guard_redis_transport

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commerce.settings.local")

guard_redis_transport()  # a broker restart must not kill workers (commerce/core/broker.py)

app = Celery("commerce")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    # Publish outbox rows that the after-commit nudge did not (crash, Redis blip).
    "eventstore-relay-outbox": {"task": "eventstore.relay_outbox", "schedule": 5.0},
    # Release reservations whose TTL passed (inventory).
    "inventory-expire-reservations": {
        "task": "inventory.expire_reservations", "schedule": 30.0,
    },
    # Run due sagas: new ones whose wake-up was lost, retries whose backoff passed, and
    # those whose worker died (their lease expired). Commits wake workers sooner (sagas).
    "sagas-run-due": {"task": "sagas.run_due", "schedule": 2.0},
    # Record carts that expired with items as abandoned (cart).
    "cart-record-abandoned": {"task": "cart.record_abandoned", "schedule": 300.0},
    # Forget Idempotency-Key records past IDEMPOTENCY_KEY_TTL_HOURS (core).
    "core-purge-idempotency-records": {
        "task": "core.purge_idempotency_records", "schedule": 3600.0,
    },
    # Forget refresh tokens past their expiry; the logout blacklist needs them no longer.
    "accounts-purge-expired-tokens": {"task": "accounts.purge_expired_tokens", "schedule": 3600.0},
    # Send notifications and webhooks whose retry time came, or whose task was lost.
    "notifications-deliveries-due": {"task": "notifications.deliveries_due", "schedule": 10.0},
    "notifications-webhooks-due": {"task": "notifications.webhooks_due", "schedule": 10.0},
    "notifications-prune-processed-events": {
        "task": "notifications.prune_processed_events", "schedule": 3600.0,
    },
    # Buy labels left pending by a carrier outage or a crash (shipping).
    "shipping-purchase-pending-labels": {
        "task": "shipping.purchase_pending_labels", "schedule": 60.0,
    },
    # Poll carriers for parcels in flight without a recent tracking update (shipping).
    "shipping-poll-tracking": {"task": "shipping.poll_tracking", "schedule": 300.0},
}
# Routine, frequent tasks: their "received"/"succeeded: 0" lines are DEBUG
# (commerce.core.logging.HousekeepingFilter); a run that did something stays INFO.
HOUSEKEEPING_TASKS = frozenset(entry["task"] for entry in app.conf.beat_schedule.values())

# Supervision (ops/celery.py): worker heartbeat, beat heartbeat + operator gauges.
app.conf.beat_scheduler = "ops.celery:BeatScheduler"


def _install_supervision() -> None:
    from ops.celery import WorkerHeartbeat

    app.steps["worker"].add(WorkerHeartbeat)


_install_supervision()


@signals.setup_logging.connect
def _keep_django_logging(**_):
    """Celery must not configure logging itself: Django's LOGGING (one JSON format) applies."""


# Header names of our own: Celery's `correlation_id` is its task id.
CORRELATION_HEADER = "commerce_correlation_id"
ACTOR_HEADER = "commerce_actor"
SENT_AT_HEADER = "commerce_sent_at"  # read back by ops.gauges for the queue's oldest age


@signals.before_task_publish.connect
def _propagate_context(headers=None, **_):
    """Carry the caller's correlation id and actor into the task's headers (nothing is
    invented here: a task published outside a request binds its own id when it runs)."""
    if headers is None:
        return
    headers.setdefault(SENT_AT_HEADER, time.time())
    ctx = context.current()
    if ctx["correlation_id"]:
        headers.setdefault(CORRELATION_HEADER, ctx["correlation_id"])
    if ctx["actor"]:
        headers.setdefault(ACTOR_HEADER, ctx["actor"])


_bound: dict[str, object] = {}


@signals.task_prerun.connect
def _bind_context(task_id=None, task=None, **_):
    request = task.request
    bound = context.current()  # an eager task runs inside its caller's context
    cm = context.bind(
        correlation_id=getattr(request, CORRELATION_HEADER, None) or bound["correlation_id"]
        or task_id,
        causation_id=task_id,
        actor=getattr(request, ACTOR_HEADER, None),
    )
    cm.__enter__()
    _bound[task_id] = cm


@signals.task_postrun.connect
def _unbind_context(task_id=None, **_):
    cm = _bound.pop(task_id, None)
    if cm is not None:
        cm.__exit__(None, None, None)


# --- metrics: worker processes share PROMETHEUS_MULTIPROC_DIR with the web processes ----
@signals.worker_process_shutdown.connect
def _mark_metrics_process_dead(pid=None, **_):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(pid or os.getpid())
