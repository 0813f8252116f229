"""gunicorn's own error pages (requests it refuses before our app runs) are the JSON
envelope too, and a long URL within its limits reaches our app's 414 (issue 11, item 3)."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _port() -> int:
    for port in range(8200, 8250):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.skip("no free port in 8200-8249")


@pytest.fixture(scope="module")
def gunicorn():
    port = _port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "commerce.settings.test",
           "WEB_WORKERS": "1", "WEB_THREADS": "1"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "commerce.wsgi:application", "--config",
         "deploy/gunicorn.conf.py", "--bind", f"127.0.0.1:{port}", "--access-logfile", "/dev/null"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("gunicorn did not start")
    yield port
    proc.terminate()
    proc.wait(timeout=30)


def raw(port: int, request: bytes) -> tuple[int, str, bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(request)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin1").split("\r\n")
    content_type = next((ln.split(":", 1)[1].strip() for ln in lines
                         if ln.lower().startswith("content-type:")), "")
    return int(lines[0].split()[1]), content_type, body


def test_malformed_request_line_is_a_json_400(gunicorn):
    status, content_type, body = raw(gunicorn, b"NOT A REQUEST\r\n\r\n")
    assert (status, content_type) == (400, "application/json")
    assert b'"code": "bad_request"' in body


def test_request_line_beyond_gunicorns_limit_is_a_json_414(gunicorn):
    status, content_type, body = raw(
        gunicorn, b"GET /api/v1/orders/?q=" + b"x" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert (status, content_type) == (414, "application/json")
    assert b'"code": "uri_too_long"' in body


def test_long_url_within_gunicorns_limit_is_answered_by_the_app(gunicorn):
    status, content_type, body = raw(
        gunicorn, b"GET /api/v1/orders/?q=" + b"x" * 5000 +
        b" HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    assert (status, content_type) == (414, "application/json")
    assert b'"code": "uri_too_long"' in body and b"4096" in body
