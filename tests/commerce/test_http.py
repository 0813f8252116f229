"""The outbound HTTP base every adapter uses, against a real local server."""

import asyncio

import pytest
from aiohttp import web

from commerce.core.http import ExternalRefused, ExternalUnavailable, HttpService, RetryPolicy
from simulators.server import free_port, serve_in_thread

FAST = RetryPolicy(attempts=3, backoff_seconds=0.01, max_backoff_seconds=0.02)


def _app() -> web.Application:
    app = web.Application()
    app["hits"] = {"flaky": 0, "down": 0, "slow": 0, "refuse": 0}
    app["script"] = {"flaky": [503, 200]}

    async def flaky(request):
        app["hits"]["flaky"] += 1
        status = app["script"]["flaky"].pop(0) if app["script"]["flaky"] else 200
        return web.json_response({"n": app["hits"]["flaky"]}, status=status)

    async def down(request):
        app["hits"]["down"] += 1
        return web.json_response({"error": "boom"}, status=500)

    async def slow(request):
        app["hits"]["slow"] += 1
        await asyncio.sleep(1)
        return web.json_response({})

    async def refuse(request):
        app["hits"]["refuse"] += 1
        return web.json_response({"error": {"code": "bad"}}, status=422)

    for name, handler in (("flaky", flaky), ("down", down), ("slow", slow),
                          ("refuse", refuse)):
        app.router.add_post(f"/{name}", handler)
    return app


@pytest.fixture
def server():
    with serve_in_thread(_app) as running:
        yield running


class Svc(HttpService):
    service = "testsvc"


def test_a_transient_5xx_is_retried_and_the_success_returned(server):
    response = Svc(base_url=server.url, retry=FAST).call("op", "POST", "/flaky", json={})
    assert (response.status_code, response.json()) == (200, {"n": 2})
    assert server.app["hits"]["flaky"] == 2


def test_persistent_5xx_gives_up_after_the_bounded_attempts(server):
    with pytest.raises(ExternalUnavailable) as raised:
        Svc(base_url=server.url, retry=FAST).call("op", "POST", "/down", json={})
    assert server.app["hits"]["down"] == 3
    assert raised.value.http_status == 503


def test_a_4xx_is_a_refusal_and_is_not_retried(server):
    with pytest.raises(ExternalRefused) as raised:
        Svc(base_url=server.url, retry=FAST).call("op", "POST", "/refuse", json={})
    assert (raised.value.status, raised.value.body) == (422, {"error": {"code": "bad"}})
    assert server.app["hits"]["refuse"] == 1


def test_a_timeout_is_retried_then_unavailable(server):
    svc = Svc(base_url=server.url, timeout=0.1, retry=RetryPolicy(attempts=2,
                                                                  backoff_seconds=0.01))
    with pytest.raises(ExternalUnavailable) as raised:
        svc.call("op", "POST", "/slow", json={})
    assert raised.value.details["error"] == "ReadTimeout"


def test_nothing_listening_is_unavailable():
    svc = Svc(base_url=f"http://127.0.0.1:{free_port()}", retry=FAST)
    with pytest.raises(ExternalUnavailable) as raised:
        svc.call("op", "POST", "/x", json={})
    assert raised.value.details["error"] == "ConnectError"
