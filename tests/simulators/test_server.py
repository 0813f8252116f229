"""The simulator runner every adapter test builds on: a real HTTP server on a free port."""

import httpx
from aiohttp import web

from simulators.server import serve_in_thread


def _app() -> web.Application:
    app = web.Application()
    app["calls"] = []

    async def echo(request: web.Request) -> web.Response:
        body = await request.json()
        request.app["calls"].append(body)
        return web.json_response({"echo": body}, status=201)

    app.router.add_post("/echo", echo)
    return app


def test_a_simulator_answers_real_http_on_its_own_port_and_stops():
    # given a simulator served on a background thread
    with serve_in_thread(_app) as server:
        # when a client calls it over HTTP
        response = httpx.post(f"{server.url}/echo", json={"n": 1}, timeout=5)
        # then it answers, and its state is visible to the test
        assert (response.status_code, response.json()) == (201, {"echo": {"n": 1}})
        assert server.app["calls"] == [{"n": 1}]
        url = server.url
    # and once the block exits nothing listens there any more
    try:
        httpx.post(f"{url}/echo", json={}, timeout=1)
    except httpx.ConnectError:
        pass
    else:
        raise AssertionError("the simulator still answers after stopping")
