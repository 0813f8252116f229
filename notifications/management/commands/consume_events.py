import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from commerce.core import metrics
from notifications.consumer import build_consumer


class Command(BaseCommand):
    help = ("Consume the commerce:events stream as the notifications consumer group "
            "(at-least-once: read, handle, XACK; claim entries of dead consumers; dedupe by "
            "event id). Runs until SIGTERM/SIGINT; waits out Redis outages.")

    def add_arguments(self, parser):
        parser.add_argument("--group", default=settings.NOTIFICATIONS_CONSUMER_GROUP)
        parser.add_argument("--consumer", default=None,
                            help="consumer name (default: hostname-pid)")
        parser.add_argument("--batch-size", type=int, default=50)
        parser.add_argument("--block-ms", type=int, default=5000)
        parser.add_argument("--min-idle-ms", type=int, default=60_000,
                            help="claim entries pending longer than this")
        parser.add_argument("--claim-every", type=float, default=15.0)
        parser.add_argument("--from-start", action="store_true",
                            help="a new group starts at the oldest entry (default: new ones)")

    def handle(self, *args, **opts):
        consumer = build_consumer(
            group=opts["group"], consumer=opts["consumer"], batch_size=opts["batch_size"],
            block_ms=opts["block_ms"], min_idle_ms=opts["min_idle_ms"],
            claim_every=opts["claim_every"], start_id="0" if opts["from_start"] else "$",
            prepare=close_old_connections)  # drop connections the database closed
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        metrics.serve_from_env()  # METRICS_PORT: this consumer's own scrape target
        self.stdout.write(f"consuming {consumer.stream} as {consumer.group}/{consumer.consumer}")
        consumer.run(stop)
        self.stdout.write("stopped")
