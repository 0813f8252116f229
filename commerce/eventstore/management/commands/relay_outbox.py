import logging
import signal
import time

from django.core.management.base import BaseCommand

from commerce.core import liveness, metrics
from commerce.eventstore.outbox import relay_all

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Publish outbox rows to Redis; runs as a dedicated relay process until stopped."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="drain once and exit")
        parser.add_argument("--interval", type=float, default=0.5,
                            help="seconds to sleep when the outbox is empty")

    def handle(self, *args, **opts):
        stopping = False

        def stop(*_):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        if not opts["once"]:
            metrics.serve_from_env()  # METRICS_PORT: this relay's own scrape target
        total = 0
        while True:
            # Heartbeat for the liveness probe (`python -m commerce.core.liveness relay`).
            liveness.touch("relay")
            metrics.RELAY_HEARTBEAT.set(time.time())
            published = relay_all()
            total += published
            if published:
                logger.info("outbox relayed", extra={"published": published, "total": total})
            if opts["once"] or stopping:
                break
            time.sleep(opts["interval"])
        logger.info("relay stopped", extra={"total": total})
