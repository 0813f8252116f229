"""The Celery app. Settings come from Django (CELERY_* in commerce/settings); the beat
schedule is declared here so it is versioned with the code that it runs."""

import os

from celery import Celery, signals

from commerce.core import context

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commerce.settings.local")

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
    # Resume sagas past their deadline: lost message, killed worker (sagas).
    "sagas-resume-stalled": {"task": "sagas.resume_stalled", "schedule": 15.0},
    # Record carts that expired with items as abandoned (cart).
    "cart-record-abandoned": {"task": "cart.record_abandoned", "schedule": 300.0},
}


@signals.before_task_publish.connect
def _propagate_context(headers=None, **_):
    """Carry the correlation id and actor from the caller into the task's headers."""
    if headers is None:
        return
    ctx = context.current()
    headers.setdefault("correlation_id", context.correlation_id())
    if ctx["actor"]:
        headers.setdefault("actor", ctx["actor"])


_task_tokens: dict[str, object] = {}


@signals.task_prerun.connect
def _bind_context(task_id=None, task=None, **_):
    request = task.request
    cid = getattr(request, "correlation_id", None) or (request.headers or {}).get(
        "correlation_id"
    ) if request else None
    actor = getattr(request, "actor", None) if request else None
    cm = context.bind(correlation_id=cid, causation_id=task_id, actor=actor)
    cm.__enter__()
    _task_tokens[task_id] = cm


@signals.task_postrun.connect
def _unbind_context(task_id=None, **_):
    cm = _task_tokens.pop(task_id, None)
    if cm is not None:
        cm.__exit__(None, None, None)
