"""The audit trail cannot be edited: the database refuses UPDATE and DELETE on `events`
(issue 11, item 10), except through the documented erasure hatch."""

import uuid

import pytest
from django.db import DatabaseError, connection, transaction

from commerce.eventstore import store
from commerce.eventstore.erasure import erasure
from commerce.eventstore.models import Event
from commerce.eventstore.types import NewEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def event():
    aggregate_id = uuid.uuid4()
    store.append(aggregate_id=aggregate_id, aggregate_type="Tally", expected_version=0,
                 events=[NewEvent("Added", {"amount": 1})])
    return Event.objects.get(aggregate_id=aggregate_id)


@pytest.mark.parametrize("sql", [
    "UPDATE events SET event_data = '{\"amount\": 99}' WHERE id = %s",
    "DELETE FROM events WHERE id = %s",
])
def test_raw_sql_cannot_change_or_delete_an_event(event, sql):
    with pytest.raises(DatabaseError, match="events are append-only"), transaction.atomic(), \
            connection.cursor() as cursor:
        cursor.execute(sql, [event.id])
    event.refresh_from_db()
    assert event.event_data == {"amount": 1}


def test_the_orm_cannot_either(event):
    with pytest.raises(DatabaseError), transaction.atomic():
        Event.objects.filter(pk=event.pk).update(actor="someone-else")
    with pytest.raises(DatabaseError), transaction.atomic():
        Event.objects.filter(pk=event.pk).delete()
    assert Event.objects.filter(pk=event.pk, actor=event.actor).exists()


def test_the_erasure_hatch_allows_it_and_closes_behind_itself(event):
    with erasure():
        Event.objects.filter(pk=event.pk).update(event_data={"amount": "[erased]"})
    event.refresh_from_db()
    assert event.event_data == {"amount": "[erased]"}
    # after the block the trigger refuses again, in the same transaction too
    with pytest.raises(DatabaseError), transaction.atomic():
        Event.objects.filter(pk=event.pk).delete()
