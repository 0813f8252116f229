"""gunicorn settings used by `make run` and the containers."""

import os

from commerce.core.logging import logging_config

bind = os.environ.get("WEB_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_WORKERS", "2"))
threads = int(os.environ.get("WEB_THREADS", "4"))
# Longer than the slowest request (a payment gateway call with retries) so gunicorn's
# watchdog does not kill it; shorter than the load balancer's idle timeout.
timeout = int(os.environ.get("WEB_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("WEB_GRACEFUL_TIMEOUT", "20"))
# One JSON format with Django and Celery; the access line is django-structlog's
# request_finished (it carries the correlation id), so gunicorn's own is off.
accesslog = None
logconfig_dict = logging_config(os.environ.get("LOG_LEVEL", "INFO"))
# Containers: tmpfs for the worker heartbeat files (a read-only root filesystem elsewhere).
worker_tmp_dir = os.environ.get("GUNICORN_WORKER_TMP_DIR") or None
# gunicorn's own request limits sit above the app's (MAX_URL_LENGTH, 4096), so a long URL is
# answered by the app in the JSON envelope; beyond these, gunicorn answers, in JSON too.
limit_request_line = 8190
limit_request_field_size = 8190


def on_starting(server):
    from commerce.api.gunicorn_errors import install

    install()  # gunicorn's own 400/414 pages become the JSON error envelope


def child_exit(server, worker):
    # Multiprocess metrics: a dead worker's live gauges must stop counting.
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
