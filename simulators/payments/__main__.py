"""`python -m simulators.payments [--port P] [--latency-ms MS] ...`: this simulator alone."""

import argparse
import asyncio
import contextlib
import os
from dataclasses import asdict

from simulators.payments.app import PROCESSOR, create_app
from simulators.server import start_site


def main(argv: list[str] | None = None) -> None:
    """`python -m simulators.payments [--port P] [--latency-ms MS] ...`"""
    parser = argparse.ArgumentParser(prog="python -m simulators.payments",
                                     description="Stripe-shaped payment processor simulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int,
                        default=int(os.environ.get("PAYMENT_SIMULATOR_PORT", 8101)))
    parser.add_argument("--latency-ms", type=float)
    parser.add_argument("--hang-seconds", type=float)
    parser.add_argument("--timeouts-per-key", type=int)
    args = parser.parse_args(argv)

    async def serve() -> None:
        app = create_app(latency_ms=args.latency_ms, hang_seconds=args.hang_seconds,
                         timeouts_per_key=args.timeouts_per_key)
        runner = await start_site(app, args.host, args.port)
        print(f"payment simulator on {args.host}:{args.port} "
              f"({asdict(app[PROCESSOR].config) | {'api_key': '…'}})", flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())


if __name__ == "__main__":
    main()

