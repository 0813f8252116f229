"""An at-least-once consumer of the `commerce:events` Redis stream: the reference for every
service that consumes our events (docs/events.md).

The protocol, with a consumer group (each entry goes to one consumer of the group):
1. XGROUP CREATE the group once (MKSTREAM; "$": start with entries published from now on).
2. On start, re-read this consumer's own pending entries (XREADGROUP … 0): it may have
   died after reading them, under the same name.
3. Loop: XREADGROUP … > (new entries, blocking), handle each, XACK it after handling.
   A handler failure leaves the entry pending (not acknowledged) for a later retry.
4. Every `claim_every` seconds, XAUTOCLAIM entries pending longer than `min_idle_ms`: those
   of a consumer that died (or of a failed handling) are taken over and handled. An entry
   delivered `max_deliveries` times without success goes to a dead-letter stream and is
   acknowledged, so one poison entry cannot block the group forever.
5. Deduplicate by `event_id` inside the handler, in the same transaction as its effects:
   delivery is at-least-once (a consumer can die between handling and XACK; the outbox
   relay can publish an event twice).
6. Redis errors (restart, failover) are waited out with backoff; the client reconnects by
   itself and a group lost with the data (a restart without persistence) is re-created."""

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import redis

from commerce.core import liveness, metrics

logger = logging.getLogger(__name__)

Entry = tuple[str, dict[str, str]]
Handler = Callable[[str, dict[str, str]], str]  # returns an outcome label for metrics


def default_consumer_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


@dataclass
class StreamConsumer:
    client: redis.Redis
    stream: str
    group: str
    handler: Handler
    consumer: str = field(default_factory=default_consumer_name)
    batch_size: int = 50
    block_ms: int = 5000
    min_idle_ms: int = 60_000
    claim_every: float = 15.0
    max_deliveries: int = 10
    start_id: str = "$"
    # Called before each batch is handled (a long-lived process drops dead DB connections).
    prepare: Callable[[], None] | None = None
    _next_claim: float = 0.0
    _own_pending_done: bool = False

    @property
    def dead_letter_stream(self) -> str:
        return f"{self.stream}:dead:{self.group}"

    def ensure_group(self) -> None:
        try:
            self.client.xgroup_create(self.stream, self.group, id=self.start_id, mkstream=True)
            logger.info("created consumer group %s on %s", self.group, self.stream)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    # --- one round -------------------------------------------------------------------
    def poll(self) -> int:
        """One round: own pending entries once, stale entries when due, then new ones.
        Returns how many entries were acknowledged."""
        done = 0
        if not self._own_pending_done:
            done += self._process(self._read("0", block=None))
            self._own_pending_done = True
        if time.monotonic() >= self._next_claim:
            done += self.claim_stale()
            self._next_claim = time.monotonic() + self.claim_every
        return done + self._process(self._read(">", block=self.block_ms))

    def read_new(self, *, block: int | None = None) -> list[Entry]:
        """Only read (entries become pending to this consumer); tests use it to play a
        consumer that dies before acknowledging."""
        return self._read(">", block=block)

    def claim_stale(self) -> int:
        """Take over entries idle for longer than min_idle_ms (any consumer's) and handle
        them; dead-letter those delivered too often."""
        done, cursor = 0, "0-0"
        while True:
            reply = self.client.xautoclaim(self.stream, self.group, self.consumer,
                                           min_idle_time=self.min_idle_ms, start_id=cursor,
                                           count=self.batch_size)
            cursor, claimed = _decode_id(reply[0]), reply[1]
            deleted = reply[2] if len(reply) > 2 else []
            if deleted:  # trimmed from the stream while pending: nothing left to handle
                self.client.xack(self.stream, self.group, *deleted)
            entries = [_decode(e) for e in claimed if e and e[1] is not None]
            if entries:
                metrics.STREAM_ENTRIES.labels(group=self.group, outcome="claimed").inc(
                    len(entries))
                done += self._process(self._retire_poison(entries))
            if cursor == "0-0":
                return done

    # --- the loop ----------------------------------------------------------------------
    def run(self, stop: threading.Event, *, max_backoff: float = 10.0) -> None:
        """Poll until `stop` is set; Redis outages are waited out, never fatal."""
        backoff = 0.5
        ready = False
        while not stop.is_set():
            try:
                if not ready:
                    self.ensure_group()
                    ready = True
                self.poll()
                backoff = 0.5
                # Liveness probe (`python -m commerce.core.liveness consumer-<group>`) and
                # the heartbeat alert: fresh while polls succeed.
                liveness.touch(f"consumer-{self.group}")
                metrics.CONSUMER_HEARTBEAT.labels(group=self.group).set(time.time())
            except (redis.ConnectionError, redis.TimeoutError) as exc:
                logger.warning("redis unavailable, retrying in %.1fs: %s", backoff, exc)
                ready = False
                stop.wait(backoff)
                backoff = min(backoff * 2, max_backoff)
            except redis.ResponseError as exc:
                if "NOGROUP" not in str(exc):
                    raise
                logger.warning("consumer group %s is gone (Redis lost its data?); "
                               "re-creating it", self.group)
                ready = False

    # --- internals ---------------------------------------------------------------------
    def _read(self, entry_id: str, *, block: int | None) -> list[Entry]:
        reply = self.client.xreadgroup(self.group, self.consumer, {self.stream: entry_id},
                                       count=self.batch_size, block=block)
        if not reply:
            return []
        # RESP2: [[stream, entries]]; RESP3: {stream: [entries]}.
        entries = next(iter(reply.values())) if isinstance(reply, dict) else reply[0][1]
        return [_decode(e) for e in entries if e[1] is not None]

    def _process(self, entries: list[Entry]) -> int:
        acked = 0
        if entries and self.prepare is not None:
            self.prepare()
        for entry_id, fields in entries:
            try:
                outcome = self.handler(entry_id, fields)
            except Exception:  # noqa: BLE001 - left pending; claimed and retried later
                logger.exception("handling stream entry %s failed", entry_id,
                                 extra={"data": {"event_id": fields.get("event_id")}})
                metrics.STREAM_ENTRIES.labels(group=self.group, outcome="failed").inc()
                continue
            self.client.xack(self.stream, self.group, entry_id)
            metrics.STREAM_ENTRIES.labels(group=self.group, outcome=outcome).inc()
            acked += 1
        return acked

    def _retire_poison(self, entries: list[Entry]) -> list[Entry]:
        pending = self.client.xpending_range(self.stream, self.group, min=entries[0][0],
                                             max=entries[-1][0], count=len(entries),
                                             consumername=self.consumer)
        counts = {_decode_id(p["message_id"]): p["times_delivered"] for p in pending}
        keep = []
        for entry_id, fields in entries:
            if counts.get(entry_id, 0) > self.max_deliveries:
                self.client.xadd(self.dead_letter_stream, {**fields, "entry_id": entry_id},
                                 maxlen=10_000, approximate=True)
                self.client.xack(self.stream, self.group, entry_id)
                metrics.STREAM_ENTRIES.labels(group=self.group, outcome="dead_lettered").inc()
                logger.error("stream entry %s dead-lettered after %s deliveries", entry_id,
                             counts[entry_id], extra={"data": {
                                 "event_id": fields.get("event_id"),
                                 "dead_letter_stream": self.dead_letter_stream}})
            else:
                keep.append((entry_id, fields))
        return keep


def _decode_id(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _decode(entry) -> Entry:
    entry_id, fields = entry
    return _decode_id(entry_id), {_decode_id(k): _decode_id(v) for k, v in fields.items()}
