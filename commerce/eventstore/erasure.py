"""The escape hatch from the append-only `events` table (migration 0002's trigger), for the
GDPR erasure work to come and nothing else:

    with erasure():
        Event.objects.filter(aggregate_id=...).update(event_data=...)  # crypto-shredding, …

It opens a transaction (or a savepoint in the caller's) and sets `commerce.events_erasure =
on` there only (SET LOCAL, switched off again when the block ends; a rollback reverts it
too). Read models built from the changed events must be replayed afterwards
(replay_events)."""

from contextlib import contextmanager

from django.db import connection, transaction


@contextmanager
def erasure():
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL commerce.events_erasure = 'on'")
        yield
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL commerce.events_erasure = 'off'")
