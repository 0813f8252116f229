"""Set-based writes for batch paths: one `UPDATE … FROM (VALUES …)` for many rows.

Django's `bulk_update` builds a CASE expression per column and row, and resolving those
expressions costs more Python than the statement saves on the saga's hot path; this sends
the values once, typed with each column's own database type."""

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
