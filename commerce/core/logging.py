"""One JSON log format for every process (gunicorn, Django, Celery worker and beat, the
relay, management commands): structlog renders both structlog events (django-structlog's
request lines) and standard-library records, and adds the correlation id and actor from
`commerce.core.context`, the one source of both.

`logging_config()` is the dictConfig used by Django (settings.LOGGING) and by gunicorn
(deploy/gunicorn.conf.py), so nothing prints a second format."""

import logging

import structlog

from commerce.core import context

# Beat-scheduled tasks that run every few seconds: their routine lines ("received",
# "succeeded: 0", beat's "Sending due task") are DEBUG unless the task did something.
_CELERY_ROUTINE_LOGGERS = ("celery.app.trace", "celery.worker.strategy", "celery.beat")
_NOTHING_DONE = {"0", "None", "", "[]", "{}", "0.0"}


def add_context(_, __, event_dict: dict) -> dict:
    """correlation_id and actor of the unit of work being logged. For Django's own request
    records (django.request, logged outside our middleware once the response is built),
    the correlation id is read from the request the record carries."""
    ctx = context.current()
    correlation_id = ctx["correlation_id"]
    record = event_dict.get("_record")
    request = getattr(record, "request", None) if record is not None else None
    if correlation_id is None and request is not None:
        correlation_id = getattr(request, "correlation_id", None)
    event_dict.setdefault("correlation_id", correlation_id)
    event_dict.setdefault("actor", ctx["actor"])
    return event_dict


def flatten_request(_, __, event_dict: dict) -> dict:
    """A Django request object in `extra` becomes "METHOD /path" (as django-structlog logs)."""
    request = event_dict.get("request")
    if request is not None and not isinstance(request, str) and hasattr(request, "method"):
        event_dict["request"] = f"{request.method} {request.get_full_path()}"
    return event_dict


def gunicorn_fields(_, __, event_dict: dict) -> dict:
    """gunicorn's records (its error log: boot, worker exits, timeouts) carry no extras worth
    keeping; drop the format args it leaves behind."""
    event_dict.pop("args", None)
    return event_dict


def _shared_processors() -> list:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="ts"),
        add_context,
    ]


def _foreign_pre_chain() -> list:
    return [*_shared_processors(), structlog.stdlib.ExtraAdder(), flatten_request,
            gunicorn_fields]


def configure_structlog() -> None:
    """structlog loggers (django-structlog's middleware) hand their events to the standard
    library, whose handler renders them with everything else."""
    if structlog.is_configured():
        return
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_shared_processors(),
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def json_formatter() -> structlog.stdlib.ProcessorFormatter:
    configure_structlog()
    logging.captureWarnings(True)  # Python warnings (e.g. Celery's) as JSON lines too
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_foreign_pre_chain(),
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            structlog.processors.EventRenamer("message"),
            structlog.processors.JSONRenderer(default=str),
        ],
    )


class HousekeepingFilter(logging.Filter):
    """Demote the routine lines of housekeeping tasks (commerce.celery.HOUSEKEEPING_TASKS)
    to DEBUG: "received", "Sending due task", and "succeeded" when the task returned
    nothing done (0, None). A run that did something (published 12 rows) stays INFO."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name not in _CELERY_ROUTINE_LOGGERS or record.levelno != logging.INFO:
            return True
        task, result = _task_and_result(record)
        if task is None:
            return True
        from commerce.celery import HOUSEKEEPING_TASKS

        if task not in HOUSEKEEPING_TASKS:
            return True
        if result is not None and str(result) not in _NOTHING_DONE:
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return logging.getLogger().isEnabledFor(logging.DEBUG)


def _task_and_result(record: logging.LogRecord) -> tuple[str | None, object]:
    args = record.args
    if isinstance(args, dict):  # celery.app.trace / celery.worker.strategy
        return args.get("name"), args.get("return_value")
    if record.name == "celery.beat" and isinstance(args, tuple) and len(args) == 2:
        return str(args[1]), None  # "Scheduler: Sending due task %s (%s)"
    return None, None


def logging_config(level: str = "INFO") -> dict:
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"housekeeping": {"()": "commerce.core.logging.HousekeepingFilter"}},
        "formatters": {"json": {"()": "commerce.core.logging.json_formatter"}},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "filters": ["housekeeping"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "WARNING"},
            # django-structlog's request_finished is the access line (with the
            # correlation id); Django's own 4xx/5xx lines repeat it at WARNING/ERROR.
            "django.request": {"level": "ERROR"},
            "gunicorn.error": {"level": level, "handlers": ["console"], "propagate": False},
            "gunicorn.access": {"level": "WARNING", "handlers": ["console"],
                                "propagate": False},
        },
    }
