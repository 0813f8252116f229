"""Running a simulator: in its own process (`python -m simulators`) or, for tests, on a
background thread with its own event loop, bound to a free loopback port."""

import asyncio
import contextlib
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from aiohttp import web

AppFactory = Callable[[], web.Application]


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


@dataclass
class RunningServer:
    app: web.Application
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


async def start_site(app: web.Application, host: str, port: int) -> web.AppRunner:
    # access_log=None: a simulator answering hundreds of calls a second must not spend its
    # CPU on log lines (benchmarks run it beside the service).
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    await web.TCPSite(runner, host, port, reuse_address=True).start()
    return runner


@contextlib.contextmanager
def serve_in_thread(factory: AppFactory, *, host: str = "127.0.0.1",
                    port: int | None = None) -> Iterator[RunningServer]:
    """Serve `factory()` on a daemon thread until the block exits. The app object is
    yielded too, so a test can reach the simulator's state (`server.app[...]`)."""
    port = port or free_port(host)
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    holder: dict = {}

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            holder["app"] = factory()
            holder["runner"] = loop.run_until_complete(start_site(holder["app"], host, port))
        except BaseException as exc:  # surfaced to the caller below
            holder["error"] = exc
            ready.set()
            return
        ready.set()
        loop.run_forever()
        loop.run_until_complete(holder["runner"].cleanup())
        loop.close()

    thread = threading.Thread(target=run, name=f"simulator:{port}", daemon=True)
    thread.start()
    if not ready.wait(10):
        raise RuntimeError(f"simulator on port {port} did not start")
    if "error" in holder:
        raise holder["error"]
    try:
        yield RunningServer(app=holder["app"], host=host, port=port)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
