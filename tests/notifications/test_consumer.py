"""The at-least-once stream consumer: a consumer that dies after reading (or after handling)
but before acknowledging loses nothing and causes nothing twice; poison and malformed
entries do not block the group."""

import pytest
from django.conf import settings

from inventory.services import stock_adjust
from notifications.consumer import build_consumer, redis_for_consumer
from notifications.models import Delivery, ProcessedEvent
from simulators import slack as slack_sim
from tests.factories import make_item
from tests.notifications.conftest import GROUP, publish

pytestmark = pytest.mark.django_db


def low_stock_events(count: int) -> list[str]:
    """`count` LowStockReached events (one Slack message each), made through inventory."""
    skus = []
    for _ in range(count):
        item = make_item(quantity=10, low_stock_threshold=5)
        stock_adjust(sku=item.sku, delta=-6, reason="damaged")
        skus.append(item.sku)
    return skus


def consumer_named(name: str, **options):
    options.setdefault("block_ms", 50)
    return build_consumer(group=GROUP, consumer=name, start_id="0",
                          client=redis_for_consumer(url=settings.REDIS_URL), **options)


def pending(consumer) -> dict[str, int]:
    info = consumer.client.xpending(settings.EVENTS_STREAM_KEY, GROUP)
    return {c["name"].decode(): c["pending"] for c in info["consumers"]}


def test_entries_of_a_consumer_that_died_are_claimed_by_another(
        slack_server, django_capture_on_commit_callbacks):
    # given 4 low-stock crossings on the stream
    skus = low_stock_events(4)
    publish()
    a = consumer_named("a")
    a.ensure_group()
    # when consumer a reads every entry, handles the first two (their effects commit) and
    # dies before acknowledging anything
    entries = a.read_new()
    low = [e for e in entries if '"LowStockReached"' in e[1]["payload"]]
    assert len(low) == 4
    with django_capture_on_commit_callbacks(execute=True):
        for entry_id, fields in low[:2]:
            assert a.handler(entry_id, fields) == "handled"
    assert pending(a) == {"a": len(entries)}
    # and consumer b, later, claims what a left pending
    b = consumer_named("b", min_idle_ms=0)
    with django_capture_on_commit_callbacks(execute=True):
        acked = b.claim_stale()
    # then every entry is handled and acknowledged, none lost...
    assert acked == len(entries)
    assert pending(b) == {}
    # ...and none twice: one delivery and one Slack message per crossing
    assert sorted(d.recipient for d in Delivery.objects.all()) == ["#commerce-ops"] * 4
    texts = [m["text"] for m in slack_server.app[slack_sim.MESSAGES]]
    assert sorted(sku for sku in skus for t in texts if sku in t) == sorted(skus)
    assert len(texts) == 4
    assert ProcessedEvent.objects.filter(consumer_group=GROUP).count() == 4


def test_a_poison_entry_is_dead_lettered_and_the_rest_go_on(monkeypatch):
    # given an entry whose handling always fails, and a healthy one after it
    c = consumer_named("c", min_idle_ms=0, max_deliveries=2)
    c.ensure_group()
    stream = settings.EVENTS_STREAM_KEY
    bad = c.client.xadd(stream, {"event_id": "1", "topic": "Order", "payload": "{}"}).decode()
    good = c.client.xadd(stream, {"event_id": "2", "topic": "Order", "payload": "{}"}).decode()
    calls = []

    def handler(entry_id, fields):
        calls.append(entry_id)
        if entry_id == bad:
            raise RuntimeError("cannot handle this one")
        return "handled"

    c.handler = handler
    # when the consumer keeps polling
    for _ in range(5):
        c.poll()
        c._next_claim = 0  # claim on every round
    # then the good entry was handled once, the bad one tried until max_deliveries and
    # moved to the dead-letter stream; nothing is left pending
    assert calls.count(good) == 1
    assert calls.count(bad) == 2
    assert pending(c) == {}
    [(_, fields)] = c.client.xrange(c.dead_letter_stream)
    assert fields[b"entry_id"].decode() == bad


def test_a_malformed_entry_is_acknowledged_without_effects():
    c = consumer_named("d")
    c.ensure_group()
    c.client.xadd(settings.EVENTS_STREAM_KEY, {"event_id": "x", "payload": "not json"})
    assert c.poll() == 1
    assert pending(c) == {}
    assert ProcessedEvent.objects.count() == 0
