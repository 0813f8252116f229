"""Set-based writes for hot paths: one `UPDATE … FROM (VALUES …)` or one `INSERT … VALUES`
for many rows.

Django's `bulk_update` builds a CASE expression per column and row, and `bulk_create`
compiles its statement anew on every call; on the placement and saga hot paths that Python
cost more than the statements. These send the values once, typed by the model's fields."""

from collections.abc import Sequence

from django.db import connection
from django.db.models import Model


def update_rows(model: type[Model], rows: Sequence[Model], fields: Sequence[str], *,
                key: str | None = None) -> int:
    """Write `fields` of each of `rows` (model instances), matched on `key` (the primary
    key by default); returns how many rows the database updated."""
    if not rows:
        return 0
    meta = model._meta
    key_field = meta.pk if key is None else meta.get_field(key)
    columns = [key_field, *(meta.get_field(name) for name in fields)]
    casts = [f"%s::{field.db_type(connection)}" for field in columns]
    params = []
    for row in rows:
        for field in columns:
            params.append(field.get_db_prep_save(getattr(row, field.attname), connection))
    table = connection.ops.quote_name(meta.db_table)
    names = [connection.ops.quote_name(field.column) for field in columns]
    assignments = ", ".join(f"{name} = v.{name}" for name in names[1:])
    values = ", ".join(f"({', '.join(casts)})" for _ in rows)
    sql = (f"UPDATE {table} SET {assignments} FROM (VALUES {values}) AS v({', '.join(names)}) "
           f"WHERE {table}.{names[0]} = v.{names[0]}")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def insert_rows(model: type[Model], rows: Sequence[Model], fields: Sequence[str], *,
                returning: Sequence[str] = ()) -> None:
    """INSERT `rows` (model instances) in one statement, writing `fields`; the columns named
    in `returning` (set by the database: sequences, defaults) are set back on the
    instances. What `bulk_create` does, without its per-call compilation."""
    if not rows:
        return
    meta = model._meta
    columns = [meta.get_field(name) for name in fields]
    back = [meta.get_field(name) for name in returning]
    params = []
    for row in rows:
        for field in columns:
            params.append(field.get_db_prep_save(getattr(row, field.attname), connection))
    quote = connection.ops.quote_name
    placeholders = "(" + ", ".join(["%s"] * len(columns)) + ")"
    sql = (f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in columns)})"
           f" VALUES {', '.join([placeholders] * len(rows))}")
    if back:
        sql += f" RETURNING {', '.join(quote(f.column) for f in back)}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if back:
            for row, values in zip(rows, cursor.fetchall(), strict=True):
                for field, value in zip(back, values, strict=True):
                    setattr(row, field.attname, value)
