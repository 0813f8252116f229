"""`python -m simulators [NAME ...] [--host H]`: run the named simulators (all by default)
in one process, each on its port (registry defaults, or the port's environment variable).
Ctrl-C or SIGTERM stops them."""

import argparse
import asyncio
import importlib
import os
import signal
import sys

from simulators.registry import SIMULATORS, Simulator
from simulators.server import start_site


async def _start(sim: Simulator, host: str, port: int):
    module = importlib.import_module(sim.module)
    if hasattr(module, "create_app"):
        runner = await start_site(module.create_app(), host, port)
        return runner.cleanup
    return await module.start(host, port)


async def _main(selected: list[Simulator], host: str) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    cleanups = []
    for sim in selected:
        port = int(os.environ.get(sim.port_env, sim.default_port))
        cleanups.append(await _start(sim, host, port))
        print(f"simulator {sim.name} on {host}:{port} ({sim.description})", flush=True)
    await stop.wait()
    for cleanup in reversed(cleanups):
        await cleanup()


def main(argv: list[str] | None = None) -> int:
    names = {s.name: s for s in SIMULATORS}
    parser = argparse.ArgumentParser(prog="python -m simulators", description=__doc__)
    parser.add_argument("names", nargs="*", help=f"simulators to run (default: all of "
                        f"{', '.join(names) or 'none'})")
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in names]
    if unknown:
        parser.error(f"unknown simulator(s): {', '.join(unknown)}")
    selected = [names[n] for n in args.names] if args.names else list(SIMULATORS)
    if not selected:
        print("no simulators registered", file=sys.stderr)
        return 1
    asyncio.run(_main(selected, args.host))
    return 0


if __name__ == "__main__":
    sys.exit(main())
