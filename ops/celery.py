"""Celery-side supervision: heartbeats a supervisor can check and Prometheus can alert on.

- `WorkerHeartbeat`: a worker bootstep that, every HEARTBEAT_SECONDS while its consumer is
  connected, touches the liveness file `worker` (Kubernetes/compose liveness) and sets
  `commerce_worker_heartbeat_timestamp_seconds{worker}`. It runs on the worker's own timer,
  so a hung or disconnected consumer stops it.
- `BeatScheduler`: celery beat's persistent scheduler that also heartbeats on every tick
  (liveness file `beat`, `commerce_beat_heartbeat_timestamp_seconds`) and runs the operator
  gauge collector (ops.gauges) on a thread of its own.
- Task outcome counters (`commerce_celery_tasks_total`)."""

import logging
import threading
import time

from celery import bootsteps, signals
from celery.beat import PersistentScheduler
from django.conf import settings
from django.db import close_old_connections

from commerce.core import liveness, metrics

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 5.0


class WorkerHeartbeat(bootsteps.StartStopStep):
    requires = {"celery.worker.components:Timer"}

    def __init__(self, parent, **kwargs):
        super().__init__(parent, **kwargs)
        self.tref = None

    def start(self, worker):
        self.tref = worker.timer.call_repeatedly(HEARTBEAT_SECONDS, self.beat, (worker,),
                                                 priority=10)
        metrics.serve_from_env()

    def stop(self, worker):
        if self.tref is not None:
            self.tref.cancel()
            self.tref = None

    @staticmethod
    def beat(worker) -> None:
        consumer = getattr(worker, "consumer", None)
        connection = getattr(consumer, "connection", None)
        # Only a consumer that is connected is alive for our purposes: a worker stuck
        # reconnecting does no work, and its heartbeat going stale says so.
        if consumer is None or connection is None or not connection.connected:
            return
        liveness.touch("worker")
        metrics.WORKER_HEARTBEAT.labels(worker=worker.hostname).set(time.time())


class BeatScheduler(PersistentScheduler):
    _collector_started = False

    def setup_schedule(self):
        super().setup_schedule()
        self._heartbeat()
        if not BeatScheduler._collector_started:
            BeatScheduler._collector_started = True
            metrics.serve_from_env()
            threading.Thread(target=_collect_forever, name="ops-gauges", daemon=True).start()

    def tick(self, *args, **kwargs):
        self._heartbeat()
        # Wake at least every HEARTBEAT_SECONDS so the heartbeat stays fresh.
        return min(super().tick(*args, **kwargs), HEARTBEAT_SECONDS)

    @staticmethod
    def _heartbeat() -> None:
        liveness.touch("beat")
        metrics.BEAT_HEARTBEAT.set(time.time())


def _collect_forever() -> None:
    from ops import gauges

    interval = settings.OPS_COLLECT_INTERVAL_SECONDS
    while True:
        started = time.monotonic()
        try:
            close_old_connections()
            gauges.collect()
        except Exception:  # never let the collector thread die
            logger.exception("ops gauge collection failed")
        time.sleep(max(interval - (time.monotonic() - started), 1.0))


@signals.task_success.connect
def _count_success(sender=None, **_):
    metrics.CELERY_TASKS.labels(task=sender.name, outcome="succeeded").inc()


@signals.task_failure.connect
def _count_failure(sender=None, **_):
    metrics.CELERY_TASKS.labels(task=sender.name, outcome="failed").inc()


@signals.task_retry.connect
def _count_retry(sender=None, **_):
    metrics.CELERY_TASKS.labels(task=sender.name, outcome="retried").inc()
