"""Set-based writes for hot paths: one `INSERT … SELECT FROM unnest(…)` or one
`UPDATE … FROM unnest(…)` for many rows; and `rows_by_pk`, many rows read by key.

Django's `bulk_update` builds a CASE expression per column and row, and `bulk_create`
compiles its statement anew on every call, with a placeholder per value that the driver
re-parses each time. Here every column travels as one typed array: the statement's text is
the same whatever the number of rows (so the driver's parsing is cached) and the Python cost
is one prepared value per cell.

An array travels as its text literal (`{"…","…"}`), built here with str joins: psycopg's own
list dumper looks up a dumper per element in Python and was a fifth of a saga worker's CPU."""

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from decimal import Decimal

from django.db import connection
from django.db.models import (
    DateField,
    DecimalField,
    IntegerField,
    JSONField,
    Model,
    UUIDField,
)
from psycopg.types.json import Json, Jsonb


def _arrays(fields, rows) -> tuple[list[str], list[str]]:
    casts = [f"%s::{field.db_type(connection)}[]" for field in fields]
    columns = []
    for field in fields:
        values = [_prepare(field, row) for row in rows]
        plain = isinstance(getattr(field, "target_field", field), _PLAIN_FIELDS)
        columns.append(plain_array_literal(values) if plain else array_literal(values))
    return casts, columns


# Fields whose values print without quotes or backslashes (uuids, numbers, dates): their
# elements need no escaping, which is most of the cost of a literal.
_PLAIN_FIELDS = (UUIDField, IntegerField, DecimalField, DateField)  # DateTimeField included


def _prepare(field, row):
    """A cell's database value. Only JSON needs Django's preparation (the field's encoder);
    the rows hold database values already (str, int, Decimal, UUID, aware datetime), which
    Django's per-cell preparation would only check again, at a tenth of a batch's CPU."""
    value = getattr(row, field.attname)
    if isinstance(field, JSONField):
        return field.get_db_prep_save(value, connection)
    return value


def array_literal(values: Sequence) -> str:
    """PostgreSQL's text form of a one-dimensional array of `values` (database-ready
    values: str, numbers, UUIDs, bools, datetimes, JSON adapters, None): every element
    double-quoted with backslash and quote escaped, so commas, braces, blanks and the word
    NULL inside a value stay data; None is the bare NULL."""
    return "{" + ",".join(map(_element, values)) + "}"


_PLAIN_TYPES = (int, Decimal, uuid.UUID, dt.date)  # their text has no quote or backslash


def plain_array_literal(values: Sequence) -> str:
    """`array_literal` for values whose text has no quote or backslash (UUIDs, numbers,
    dates, aware datetimes; None is NULL)."""
    return "{" + ",".join(map(_plain_element, values)) + "}"


def _plain_element(value) -> str:
    if value is None:
        return "NULL"
    if not isinstance(value, _PLAIN_TYPES):
        return _element(value)  # e.g. a str in a uuid column: escaped like any text
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        raise ValueError("naive datetime in a bulk write")  # the database would guess its zone
    return f'"{value}"'


def _element(value) -> str:
    if value is None:
        return "NULL"
    if value is True or value is False:
        return "t" if value else "f"
    if isinstance(value, (Json, Jsonb)):
        value = (value.dumps or json.dumps)(value.obj)
    elif isinstance(value, (dict, list)):
        value = json.dumps(value)
    elif isinstance(value, dt.datetime) and value.tzinfo is None:
        raise ValueError("naive datetime in a bulk write")  # the database would guess its zone
    else:
        value = str(value)
    if "\\" in value or '"' in value:
        value = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{value}"'


def insert_rows(model: type[Model], rows: Sequence[Model], fields: Sequence[str], *,
                returning: Sequence[str] = ()) -> None:
    """INSERT `rows` (model instances) writing `fields`; the columns named in `returning`
    (set by the database: sequences, defaults, an auto primary key) are set back on the
    instances, matched by primary key when it is among `fields`, else in order (an INSERT
    from unnest inserts, and returns, in the arrays' order)."""
    if not rows:
        return
    meta = model._meta
    sql, values, columns = _insert(model, rows, fields)
    back = [meta.get_field(name) for name in returning]
    keyed = meta.pk in columns
    if back:
        quote = connection.ops.quote_name
        sql += f" RETURNING {', '.join(quote(f.column) for f in [meta.pk, *back])}"
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        if back:
            by_pk = {row.pk: row for row in rows} if keyed else None
            for n, (pk, *returned) in enumerate(cursor.fetchall()):
                row = by_pk[meta.pk.to_python(pk)] if keyed else rows[n]
                for field, value in zip(back, returned, strict=True):
                    setattr(row, field.attname, value)


def insert_rows_together(*parts: tuple[type[Model], Sequence[Model], Sequence[str]]) -> None:
    """`insert_rows` for several tables in one statement (one round trip), all or nothing:
    each part is (model, rows, fields). The parts are data-modifying CTEs, which PostgreSQL
    runs in no promised order: no part may need another's rows (a foreign key checked at
    once)."""
    parts = tuple(part for part in parts if part[1])
    if not parts:
        return
    inserts, values = [], []
    for model, rows, fields in parts:
        sql, part_values, _ = _insert(model, rows, fields)
        inserts.append(sql)
        values.extend(part_values)
    *first, last = inserts
    sql = last if not first else (
        "WITH " + ", ".join(f"q{n} AS ({sql})" for n, sql in enumerate(first)) + " " + last)
    with connection.cursor() as cursor:
        cursor.execute(sql, values)


def _insert(model, rows, fields) -> tuple[str, list, list]:
    meta = model._meta
    columns = [meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    sql = f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in columns)})"
    if len(rows) == 1:  # one row (placement): plain values, no arrays to build and unpack
        values = [_prepare(f, rows[0]) for f in columns]
        sql += f" VALUES ({', '.join(['%s'] * len(columns))})"
    else:
        casts, values = _arrays(columns, rows)
        sql += f" SELECT * FROM unnest({', '.join(casts)})"
    return sql, values, columns


def update_rows(model: type[Model], rows: Sequence[Model], fields: Sequence[str], *,
                key: str | None = None, where: str = "") -> int:
    """Write `fields` of each of `rows` (model instances), matched on `key` (the primary
    key by default), optionally only where `where` holds (SQL on `t`, the table, and `v`,
    the new values); returns how many rows the database updated."""
    if not rows:
        return 0
    meta = model._meta
    key_field = meta.pk if key is None else meta.get_field(key)
    columns = [key_field, *(meta.get_field(name) for name in fields)]
    casts, values = _arrays(columns, rows)
    quote = connection.ops.quote_name
    names = [quote(field.column) for field in columns]
    assignments = ", ".join(f"{name} = v.{name}" for name in names[1:])
    sql = (f"UPDATE {quote(meta.db_table)} AS t SET {assignments} FROM unnest("
           f"{', '.join(casts)}) AS v({', '.join(names)}) WHERE t.{names[0]} = v.{names[0]}"
           + (f" AND {where}" if where else ""))
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        return cursor.rowcount


def rows_by_pk(model: type[Model], pks: Sequence, *, lock: bool = False) -> list[Model]:
    """The rows of `model` with these primary keys, as instances in key order (`lock`:
    locked FOR UPDATE, in that order). One raw statement, its columns named (it stays
    prepared across migrations): building the ORM query cost more than running it."""
    meta = model._meta
    fields = meta.concrete_fields
    quote = connection.ops.quote_name
    key = quote(meta.pk.column)
    sql = (f"SELECT {', '.join(quote(f.column) for f in fields)} FROM {quote(meta.db_table)} "
           f"WHERE {key} = ANY(%s::{meta.pk.db_type(connection)}[]) ORDER BY {key}"
           + (" FOR UPDATE" if lock else ""))
    with connection.cursor() as cursor:
        cursor.execute(sql, [plain_array_literal(list(pks))])
        rows = cursor.fetchall()
    converters = [(n, f) for n, f in enumerate(fields) if hasattr(f, "from_db_value")]
    names = [f.attname for f in fields]
    instances = []
    for row in rows:
        if converters:
            row = list(row)
            for n, field in converters:
                row[n] = field.from_db_value(row[n], None, connection)
        instances.append(model.from_db(connection.alias, names, row))
    return instances
