"""Shared by the messaging simulators (SMS, push, Slack, SMTP, webhook receiver): scripted
faults, the `/_sim/…` inspection endpoints, and delivery receipts POSTed back to the
service with retries (a real provider retries a callback that did not answer 2xx).

Faults, by POST /_sim/faults: {"status": 503, "count": 2} answers the next two requests
with 503; {"status": 503} (no count) answers every request so until DELETE /_sim/faults
(a provider that is down); {"delay": 2.5, "count": 1} answers the next request late."""

import asyncio
import contextlib
import json
import logging
import os
import time
from collections.abc import Callable

import aiohttp
from aiohttp import web

logger = logging.getLogger("simulators")

FAULTS = web.AppKey("faults", dict)
CALLBACKS = web.AppKey("callbacks", object)
CONFIG = web.AppKey("config", dict)


def env(name: str, default: str) -> str:
    return os.environ.get(name, default)


def base_app(config: dict) -> web.Application:
    """An app with fault injection, a config dict tests may change, and /_sim routes."""
    app = web.Application(middlewares=[_faults])
    app[FAULTS] = {}
    app[CALLBACKS] = Callbacks()
    app[CONFIG] = config
    app.router.add_post("/_sim/faults", _set_faults)
    app.router.add_delete("/_sim/faults", _clear_faults)
    app.router.add_post("/_sim/config", _set_config)
    app.router.add_get("/_sim/callbacks", _callbacks_view)
    app.on_cleanup.append(_cancel_callbacks)
    return app


def state_view(key: web.AppKey):
    """A GET handler answering app[key] as JSON (what the simulator received)."""

    async def view(request: web.Request) -> web.Response:
        return web.json_response(request.app[key])

    return view


def set_faults(app: web.Application, *, status: int | None = None, count: int | None = None,
               delay: float = 0.0) -> None:
    """For tests holding the app object (serve_in_thread): same as POST /_sim/faults."""
    app[FAULTS].clear()
    app[FAULTS].update(status=status, count=count, delay=delay)


def clear_faults(app: web.Application) -> None:
    app[FAULTS].clear()


@web.middleware
async def _faults(request: web.Request, handler):
    faults = request.app[FAULTS]
    if request.path.startswith("/_sim/") or not faults:
        return await handler(request)
    spec = dict(faults)  # this request's fault; a counted fault is used up
    if spec.get("count") is not None:
        faults["count"] -= 1
        if faults["count"] <= 0:
            faults.clear()
    if spec.get("delay"):
        await asyncio.sleep(spec["delay"])
    if spec.get("status"):
        return web.json_response({"error": {"code": spec["status"],
                                             "message": "simulated fault"}},
                                 status=spec["status"])
    return await handler(request)


async def _set_faults(request: web.Request) -> web.Response:
    body = await request.json()
    set_faults(request.app, status=body.get("status"), count=body.get("count"),
               delay=float(body.get("delay", 0)))
    return web.json_response({"faults": request.app[FAULTS]})


async def _clear_faults(request: web.Request) -> web.Response:
    clear_faults(request.app)
    return web.json_response({"faults": {}})


async def _set_config(request: web.Request) -> web.Response:
    request.app[CONFIG].update(await request.json())
    return web.json_response(request.app[CONFIG])


async def _callbacks_view(request: web.Request) -> web.Response:
    return web.json_response(request.app[CALLBACKS].records)


async def _cancel_callbacks(app: web.Application) -> None:
    app[CALLBACKS].cancel()


class Callbacks:
    """Receipts POSTed back to the service after `delay` seconds, retrying non-2xx answers
    with backoff (as providers retry their status callbacks). `build()` returns (body,
    headers) at send time, so signatures carry a fresh timestamp. Every callback is
    recorded (url, last status, attempts, body) for tests and /_sim/callbacks."""

    def __init__(self):
        self.records: list[dict] = []
        self.tasks: set[asyncio.Task] = set()

    def schedule(self, *, url: str, delay: float, build: Callable[[], tuple[bytes, dict]],
                 attempts: int = 6) -> None:
        if not url:
            return
        task = asyncio.get_running_loop().create_task(
            self._post(url=url, delay=delay, build=build, attempts=attempts))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def cancel(self) -> None:
        for task in list(self.tasks):
            task.cancel()

    async def _post(self, *, url, delay, build, attempts) -> None:
        await asyncio.sleep(delay)
        record = {"url": url, "status": None, "attempts": 0, "at": time.time()}
        self.records.append(record)
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
            for attempt in range(1, attempts + 1):
                body, headers = build()
                record["attempts"], record["body"] = attempt, body.decode(errors="replace")
                with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError):
                    async with session.post(url, data=body, headers=headers) as response:
                        record["status"] = response.status
                        if response.status < 300:
                            return
                await asyncio.sleep(min(0.2 * 2 ** (attempt - 1), 5.0))
        logger.warning("callback to %s gave up after %s attempts", url, attempts)


def json_body(payload) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()
