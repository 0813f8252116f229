"""One JSON format for every process, with the correlation id on every request line."""

import io
import json
import logging

import pytest
from django.test import RequestFactory

from commerce.core.logging import HousekeepingFilter, json_formatter


@pytest.fixture
def log_lines():
    """Everything logged at INFO and above, rendered as the processes render it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(json_formatter())
    handler.addFilter(HousekeepingFilter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(old_level)


@pytest.mark.django_db
def test_request_line_carries_the_correlation_id(client, log_lines):
    # when a request comes with a correlation id (a 404, as in the issue)
    client.get("/api/v1/no-such-thing/", HTTP_X_CORRELATION_ID="cid-123")
    # then its one access line is JSON with that id and the status code
    finished = [line for line in log_lines() if line["message"] == "request_finished"]
    assert len(finished) == 1
    assert finished[0]["correlation_id"] == "cid-123"
    assert finished[0]["code"] == 404
    assert finished[0]["request"] == "GET /api/v1/no-such-thing/"
    assert finished[0]["level"] == "warning"
    assert {"ts", "logger", "actor"} <= finished[0].keys()


def test_django_request_record_takes_the_id_from_its_request(log_lines):
    # Django logs 4xx/5xx after the middleware returned: the id comes from the request
    request = RequestFactory().get("/x")
    request.correlation_id = "cid-456"
    logging.getLogger("django.request").error("Internal Server Error: /x",
                                              extra={"request": request, "status_code": 500})
    (line,) = log_lines()
    assert line["correlation_id"] == "cid-456"
    assert line["request"] == "GET /x"
    assert line["status_code"] == 500


def _celery_record(logger, task, return_value):
    args = {"name": task, "id": "t1", "return_value": return_value, "runtime": 0.01}
    return logging.LogRecord(logger, logging.INFO, __file__, 1,
                             "Task %(name)s[%(id)s] succeeded in %(runtime)ss: "
                             "%(return_value)s", (args,), None)


@pytest.mark.parametrize("task,result,kept", [
    ("eventstore.relay_outbox", "0", False),     # housekeeping that did nothing: DEBUG
    ("eventstore.relay_outbox", "12", True),     # housekeeping that did something: INFO
    ("sagas.run_due", "0", False),
    ("sagas.run_step", "None", True),            # not housekeeping: always INFO
])
def test_housekeeping_lines_are_debug_unless_they_did_something(task, result, kept):
    record = _celery_record("celery.app.trace", task, result)
    assert HousekeepingFilter().filter(record) is kept
    assert record.levelno == (logging.INFO if kept else logging.DEBUG)


def test_beat_sending_due_housekeeping_is_debug():
    record = logging.LogRecord("celery.beat", logging.INFO, __file__, 1,
                               "Scheduler: Sending due task %s (%s)",
                               ("eventstore-relay-outbox", "eventstore.relay_outbox"), None)
    assert HousekeepingFilter().filter(record) is False
