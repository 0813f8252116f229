"""Set-based writes (commerce/core/bulk.py): every kind of value survives the trip through an
array literal exactly, whatever characters it holds."""

import datetime as dt
import json
import uuid
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from commerce.core.bulk import (
    array_literal,
    insert_rows,
    insert_rows_together,
    plain_array_literal,
    update_rows,
)
from commerce.core.models import IdempotencyRecord
from commerce.eventstore.models import OutboxMessage

pytestmark = pytest.mark.django_db

AWKWARD = ['plain', 'with "quotes"', 'back\\slash', 'a,b', '{braces}', 'NULL', '', ' padded ',
           'ünïcødé ✓', 'new\nline', '\\"both\\"']


def test_text_values_round_trip_exactly():
    # given values with every character the array syntax gives a meaning to
    # when they travel as one array literal
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::text[]", [array_literal([*AWKWARD, None])])
        (back,) = cursor.fetchone()
    # then PostgreSQL reads back the same values, the None as NULL and "NULL" as a string
    assert back == [*AWKWARD, None]


def test_typed_values_round_trip_exactly():
    # given uuids, decimals, booleans, aware datetimes and JSON adapters
    ident = uuid.uuid4()
    when = dt.datetime(2026, 11, 25, 18, 30, 1, 123456, tzinfo=dt.UTC)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT %s::uuid[], %s::numeric[], %s::boolean[], %s::timestamptz[], %s::jsonb[]",
            [array_literal([ident, None]), array_literal([Decimal("9.99"), Decimal("-0.01")]),
             array_literal([True, False]), array_literal([when]),
             array_literal([{"k": 'v "q" \\ ,{}'}, [1, "two"]])])
        row = cursor.fetchone()
    # then each comes back as it went (Django reads jsonb as text, decoding it in the field)
    assert row[:4] == ([ident, None], [Decimal("9.99"), Decimal("-0.01")], [True, False],
                       [when])
    assert [json.loads(value) for value in row[4]] == [{"k": 'v "q" \\ ,{}'}, [1, "two"]]


def test_plain_values_round_trip_exactly_without_escaping():
    # given uuids, numbers and aware datetimes (text with no quote or backslash)
    ident = uuid.uuid4()
    when = dt.datetime(2026, 11, 25, 18, 30, 1, 123456, tzinfo=dt.UTC)
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::uuid[], %s::bigint[], %s::numeric[], %s::timestamptz[]",
                       [plain_array_literal([ident, None]), plain_array_literal([7, -3]),
                        plain_array_literal([Decimal("0.10")]),
                        plain_array_literal([when, None])])
        row = cursor.fetchone()
    assert row == ([ident, None], [7, -3], [Decimal("0.10")], [when, None])


@pytest.mark.parametrize("literal", [array_literal, plain_array_literal])
def test_naive_datetime_is_refused_before_reaching_the_database(literal):
    with pytest.raises(ValueError, match="naive datetime"):
        literal([dt.datetime(2026, 11, 25, 18, 30)])


def test_rows_with_awkward_text_are_inserted_and_updated_exactly():
    # given outbox rows whose topics and payloads hold quotes, backslashes and commas
    now = dt.datetime.now(dt.UTC)
    rows = [OutboxMessage(event_id=uuid.uuid4(), topic=topic, payload={"text": topic},
                          created_at=now) for topic in AWKWARD[:6]]
    # when they are inserted, then updated, each many at once
    insert_rows(OutboxMessage, rows, ["event_id", "topic", "payload", "created_at", "attempts",
                                        "last_error"])
    for row in rows:
        row.last_error = row.topic + " failed"
    updated = update_rows(OutboxMessage, rows, ["last_error"], key="event_id")
    # then every row holds exactly its own values
    assert updated == 6
    stored = {m.event_id: (m.topic, m.payload, m.last_error)
              for m in OutboxMessage.objects.filter(event_id__in=[r.event_id for r in rows])}
    assert stored == {r.event_id: (r.topic, {"text": r.topic}, r.topic + " failed")
                      for r in rows}


def test_text_in_a_plain_column_is_escaped_not_trusted():
    # given a string where a number or uuid was expected, holding the array's own syntax
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::text[]", [plain_array_literal(['1","2', 3])])
        (back,) = cursor.fetchone()
    # then it stays one element: the array is not split by the value
    assert back == ['1","2', "3"]


def _outbox(topic: str, now) -> OutboxMessage:
    return OutboxMessage(event_id=uuid.uuid4(), topic=topic, payload={"text": topic},
                         created_at=now)


_OUTBOX = ["event_id", "topic", "payload", "created_at", "attempts", "last_error"]
_RECORD = ["scope", "owner", "key", "request_hash", "response_status", "response_body",
           "created_at"]


def _record(key: str, now) -> IdempotencyRecord:
    return IdempotencyRecord(scope="test", owner="o", key=key, request_hash="h",
                             response_status=201, response_body={"k": key}, created_at=now)


def test_rows_of_several_tables_are_inserted_in_one_statement(django_assert_num_queries):
    now = dt.datetime.now(dt.UTC)
    outbox = [_outbox(topic, now) for topic in AWKWARD[:3]]
    # when one outbox row set and one idempotency record are inserted together
    with django_assert_num_queries(1):
        insert_rows_together((OutboxMessage, outbox, _OUTBOX),
                             (IdempotencyRecord, [_record("a\"b", now)], _RECORD))
    # then both tables hold exactly those rows
    stored = {m.event_id: (m.topic, m.payload) for m in OutboxMessage.objects.all()}
    assert stored == {r.event_id: (r.topic, {"text": r.topic}) for r in outbox}
    assert list(IdempotencyRecord.objects.values_list("key", "response_body")) == [
        ("a\"b", {"k": "a\"b"})]


@pytest.mark.django_db(transaction=True)
def test_rows_inserted_together_are_all_or_nothing():
    now = dt.datetime.now(dt.UTC)
    insert_rows(IdempotencyRecord, [_record("taken", now)], _RECORD)
    # when, in autocommit (no transaction around it), the second part clashes with a row
    with pytest.raises(IntegrityError):
        insert_rows_together((OutboxMessage, [_outbox("first", now)], _OUTBOX),
                             (IdempotencyRecord, [_record("taken", now)], _RECORD))
    # then the first part is not stored either
    assert OutboxMessage.objects.count() == 0
    assert IdempotencyRecord.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_rows_by_pk_reads_instances_as_the_orm_does_in_key_order():
    from commerce.core.bulk import rows_by_pk

    now = dt.datetime.now(dt.UTC)
    rows = [_outbox(topic, now) for topic in AWKWARD[:4]]
    insert_rows(OutboxMessage, rows, _OUTBOX)
    stored = list(OutboxMessage.objects.order_by("id"))
    # when three of them are read by key (one key unknown), locked
    with transaction.atomic():
        read = rows_by_pk(OutboxMessage, [stored[2].pk, stored[0].pk, stored[3].pk, 10**12],
                          lock=True)
    # then they are the ORM's instances, field for field (JSON decoded), in key order
    fields = [f.attname for f in OutboxMessage._meta.concrete_fields]
    assert [[getattr(r, f) for f in fields] for r in read] == [
        [getattr(r, f) for f in fields] for r in (stored[0], stored[2], stored[3])]
    assert read[0].payload == {"text": AWKWARD[0]}
    assert read[0]._state.adding is False and read[0]._state.db == "default"
