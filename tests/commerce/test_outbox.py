import json
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from commerce.core.redis import redis_client
from commerce.eventstore import outbox
from commerce.eventstore.aggregate import Repository
from commerce.eventstore.models import OutboxMessage
from tests.testapp.projections import Tally

pytestmark = pytest.mark.django_db(transaction=True)
repo = Repository(Tally)


def stream_event_ids() -> list[str]:
    entries = redis_client().xrange(settings.EVENTS_STREAM_KEY)
    return [fields[b"event_id"].decode() for _id, fields in entries]


def make_events(n_tallies: int) -> list[str]:
    ids = []
    for _ in range(n_tallies):
        tally = Tally(uuid.uuid4())
        tally.open("t")
        tally.add(1)
        ids += [str(e.id) for e in repo.save(tally)]
    return ids


def test_every_event_is_published_to_the_stream_with_its_envelope():
    # given events whose after-commit nudge ran the relay (eager Celery in tests)
    ids = make_events(3)
    # then each is on the stream, with a payload consumers can dedupe by event id
    assert stream_event_ids() == ids
    _id, fields = redis_client().xrange(settings.EVENTS_STREAM_KEY, count=1)[0]
    payload = json.loads(fields[b"payload"])
    assert payload["event_id"] == ids[0]
    assert payload["event_type"] == "TallyOpened" and payload["aggregate_type"] == "Tally"
    assert OutboxMessage.objects.filter(published_at__isnull=True).count() == 0


def test_the_published_envelope_is_the_recorded_events_envelope_exactly():
    # given events appended with metadata, awkward text and money in their data
    from commerce.core import context
    from commerce.eventstore import store
    from commerce.eventstore.types import NewEvent

    aggregate_id = uuid.uuid4()
    with context.bind(correlation_id="corr-1", actor='staff:"q\\'):
        recorded = store.append(
            aggregate_id=aggregate_id, aggregate_type="Tally", expected_version=0,
            metadata={"causation_id": "cause-1"},
            events=[NewEvent("TallyOpened", {"name": 'a "b" \\ c', "amount": Decimal("1.50")}),
                    NewEvent("TallyAdded", {"by": 2, "nested": {"x": [1, None]}})])
    # then each message on the stream is what RecordedEvent.envelope() says, key for key
    entries = redis_client().xrange(settings.EVENTS_STREAM_KEY)
    published = [json.loads(fields[b"payload"]) for _id, fields in entries]
    assert published == [json.loads(json.dumps(r.envelope())) for r in recorded]
    assert [p["position"] for p in published] == [r.position for r in recorded]
    assert recorded[0].position < recorded[1].position
    assert published[0]["metadata"] == {"correlation_id": "corr-1", "causation_id": "cause-1",
                                        "actor": 'staff:"q\\'}


def test_pubsub_listeners_receive_published_events():
    pubsub = redis_client().pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(settings.EVENTS_PUBSUB_CHANNEL)
    pubsub.get_message(timeout=1)
    try:
        ids = make_events(1)
        received = []
        for _ in range(20):
            message = pubsub.get_message(timeout=0.5)
            if message:
                received.append(json.loads(message["data"])["event_id"])
            if len(received) == len(ids):
                break
    finally:
        pubsub.close()
    assert received == ids


def test_relay_stopped_half_way_and_restarted_publishes_everything_at_least_once(monkeypatch):
    # given six unpublished events (the nudge is disabled, as if no worker ran)
    monkeypatch.setattr(outbox, "request_relay", lambda: None)
    monkeypatch.setattr("commerce.eventstore.store._nudge_relay", lambda: None)
    ids = make_events(3)
    assert stream_event_ids() == []
    # when the relay publishes one batch of two and then "crashes" before marking them
    real_publish = outbox._publish

    def publish_then_crash(rows):
        real_publish(rows)
        raise ConnectionError("relay died after publishing")

    monkeypatch.setattr(outbox, "_publish", publish_then_crash)
    assert outbox.relay_batch(batch_size=2) == 0
    monkeypatch.setattr(outbox, "_publish", real_publish)
    # and a relay restarts and drains the outbox
    assert outbox.relay_all() == 6
    # then every event was published, the first two twice (at-least-once), in order
    published = stream_event_ids()
    assert published == ids[:2] + ids
    assert list(dict.fromkeys(published)) == ids  # dedupe by event id recovers the history
    assert OutboxMessage.objects.filter(published_at__isnull=True).count() == 0
    assert list(OutboxMessage.objects.order_by("id").values_list("attempts", flat=True)) == [
        2, 2, 1, 1, 1, 1
    ]


def test_nothing_is_published_for_a_rolled_back_transaction():
    # when a command appends events and then fails
    with pytest.raises(RuntimeError), transaction.atomic():
        make_events(1)
        raise RuntimeError("command failed after appending")
    # then there is no outbox row and nothing reached Redis, even after a relay
    outbox.relay_all()
    assert OutboxMessage.objects.count() == 0
    assert stream_event_ids() == []


def test_relay_with_redis_down_keeps_rows_pending(monkeypatch):
    monkeypatch.setattr("commerce.eventstore.store._nudge_relay", lambda: None)
    make_events(1)

    def down(rows):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(outbox, "_publish", down)
    assert outbox.relay_all() == 0
    assert OutboxMessage.objects.filter(published_at__isnull=True, attempts=1).count() == 2
    assert OutboxMessage.objects.first().last_error == "redis is down"


def test_prune_deletes_only_rows_published_before_the_retention(monkeypatch):
    # given, oldest first: 5 rows published 25 h ago, one old row never published, and rows
    # published an hour ago and not yet
    monkeypatch.setattr(outbox, "PRUNE_BATCH", 2)  # several bounded batches
    now = timezone.now()
    ages = [25, 25, 25, None, 25, 25, 1, None]
    for n, hours in enumerate(ages):
        OutboxMessage.objects.create(
            event_id=uuid.uuid4(), topic="Test", payload={"n": n},
            created_at=now - timedelta(hours=26),
            published_at=None if hours is None else now - timedelta(hours=hours))
    # when the relay prunes
    deleted = outbox.prune_published()
    # then exactly the five old published rows are gone, in batches of two from the head
    assert deleted == 5
    left = [m.payload["n"] for m in OutboxMessage.objects.order_by("id")]
    assert left == [3, 6, 7]


def test_prune_stops_at_a_head_younger_than_the_retention(monkeypatch):
    # given only rows published a minute ago
    monkeypatch.setattr(outbox, "PRUNE_BATCH", 2)
    now = timezone.now()
    for n in range(5):
        OutboxMessage.objects.create(event_id=uuid.uuid4(), topic="Test", payload={"n": n},
                                     created_at=now, published_at=now - timedelta(minutes=1))
    # when the relay prunes, then nothing is deleted and one batch was looked at
    statements = []
    with connection.execute_wrapper(
            lambda execute, sql, *args: statements.append(sql) or execute(sql, *args)):
        assert outbox.prune_published() == 0
    assert len(statements) == 1
    assert OutboxMessage.objects.count() == 5
