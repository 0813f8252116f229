"""gunicorn settings used by `make run` and the containers."""

import os

workers = int(os.environ.get("WEB_WORKERS", "2"))
threads = int(os.environ.get("WEB_THREADS", "4"))
accesslog = "-"
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
