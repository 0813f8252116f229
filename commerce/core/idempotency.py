"""Idempotency-Key semantics (Stripe's): same key + same body → the original response;
same key + different body → 422; concurrent duplicates wait for the first and replay it.
A key is remembered for settings.IDEMPOTENCY_KEY_TTL_HOURS (Stripe: 24 h); after that the
same key is a new request, and the beat task purges the record.

The work, its outcome and the record are one transaction, so a crash never leaves a key
pointing at nothing. A known key is answered from its record before any work. A new key's
record is inserted at the end of the work's transaction with ON CONFLICT DO NOTHING: a
concurrent duplicate's insert waits on the unique index until the first commits, finds the
key taken, rolls its own work back and replays the first answer, so two duplicates never
both commit, and the common case costs one read and one insert (no lock round trip).

Work whose every effect is in the database (`database_only`: an order placement) skips the
read: the insert at the end finds a known key as it finds a concurrent duplicate's, and the
work is rolled back and the record replayed; a refusal of the work is checked against the
committed records too, so a retry of a request that succeeded replays its answer even when
the work would now be refused (a retry refused while the first is still in flight gets the
refusal, as with the read first). One statement less for the new key; more work for a
retry, which is rare. Work with effects outside the transaction (the cart in Redis) must
not use it."""

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from commerce.core.errors import DomainError, ErrorCode, ValidationFailed
from commerce.core.models import IdempotencyRecord

MAX_KEY_LENGTH = 255


class IdempotencyKeyReused(DomainError):
    code = ErrorCode.IDEMPOTENCY_KEY_REUSED
    http_status = 422
    default_message = "This Idempotency-Key was already used with a different request body."


@dataclass(frozen=True)
class IdempotentResult:
    status: int
    body: Any
    replayed: bool


def request_fingerprint(payload: Any) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder)
    return hashlib.sha256(canonical.encode()).hexdigest()


def run_idempotent(
    *, scope: str, owner: str, key: str, payload: Any,
    work: Callable[[], tuple[int, Any]], database_only: bool = False,
) -> IdempotentResult:
    """Run `work()` (returning (status, body)) at most once per (scope, owner, key).
    `database_only`: work's effects all roll back with its transaction (module docstring)."""
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ValidationFailed(
            "Idempotency-Key must be 1 to 255 characters.",
            details={"Idempotency-Key": [f"Must be 1 to {MAX_KEY_LENGTH} characters."]},
        )
    fingerprint = request_fingerprint(payload)
    if database_only:
        return _run_claiming_at_the_end(scope, owner, key, fingerprint, work)
    record = _record(scope, owner, key)
    if record is not None and record.created_at >= _window_start():
        return _replay(record, fingerprint, key)
    try:
        with transaction.atomic():
            if record is not None:
                record.delete()  # expired, not purged yet: the key starts afresh
            status, body = work()
            if not _claim(scope, owner, key, fingerprint, status, body):
                raise _TakenMeanwhile
    except _TakenMeanwhile:
        # A concurrent duplicate committed first: our work was rolled back; theirs stands.
        return _replay(_record(scope, owner, key), fingerprint, key)
    return IdempotentResult(status, body, False)


def _run_claiming_at_the_end(scope, owner, key, fingerprint, work) -> IdempotentResult:
    for _ in range(2):  # a second time only after an expired record was deleted
        try:
            with transaction.atomic():
                status, body = work()
                if not _claim(scope, owner, key, fingerprint, status, body):
                    raise _TakenMeanwhile
        except _TakenMeanwhile:
            record = _record(scope, owner, key)
            if record is None:
                continue  # purged meanwhile: the key is free again
            if record.created_at >= _window_start():
                return _replay(record, fingerprint, key)
            _delete_expired(record)
            continue
        except DomainError:
            # A retry of a request that succeeded answers as the first did, even if the
            # work would be refused now (the stock it took is gone).
            record = _record(scope, owner, key)
            if record is not None and record.created_at >= _window_start():
                return _replay(record, fingerprint, key)
            raise
        return IdempotentResult(status, body, False)
    raise _TakenMeanwhile  # a key taken again twice in a row: never seen; a 500, loudly


def _delete_expired(record: IdempotencyRecord) -> None:
    IdempotencyRecord.objects.filter(pk=record.id, created_at__lt=_window_start()).delete()


class _TakenMeanwhile(Exception):  # noqa: N818 - a signal, not an error
    pass


def _record(scope: str, owner: str, key: str) -> IdempotencyRecord | None:
    # Raw SQL: every creating request with a key reads here first, and building the ORM
    # query cost more than running it.
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, request_hash, response_status, response_body, created_at "
                       "FROM idempotency_records WHERE scope = %s AND owner = %s AND key = %s",
                       [scope, owner, key])
        row = cursor.fetchone()
    if row is None:
        return None
    body = row[3] if not isinstance(row[3], str) else json.loads(row[3])
    return IdempotencyRecord(id=row[0], scope=scope, owner=owner, key=key, request_hash=row[1],
                             response_status=row[2], response_body=body, created_at=row[4])


def _replay(record: IdempotencyRecord, fingerprint: str, key: str) -> IdempotentResult:
    if record.request_hash != fingerprint:
        raise IdempotencyKeyReused(details={"Idempotency-Key": key})
    return IdempotentResult(record.response_status, record.response_body, True)


def _claim(scope, owner, key, fingerprint, status, body) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO idempotency_records (scope, owner, key, request_hash, response_status,"
            " response_body, created_at) VALUES (%s, %s, %s, %s, %s, %s::jsonb, "
            "statement_timestamp()) ON CONFLICT (scope, owner, key) DO NOTHING RETURNING id",
            [scope, owner, key, fingerprint, status, json.dumps(body, cls=DjangoJSONEncoder)])
        return cursor.fetchone() is not None


def _window_start(now: dt.datetime | None = None) -> dt.datetime:
    return (now or timezone.now()) - dt.timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)


def idempotency_records_purge(*, now: dt.datetime | None = None, batch: int = 5000) -> int:
    """Delete records older than the window, `batch` rows per transaction (short locks).
    Returns how many went. Idempotent (beat: core.purge_idempotency_records)."""
    cutoff = _window_start(now)
    total = 0
    while True:
        ids = list(IdempotencyRecord.objects.filter(created_at__lt=cutoff)
                   .order_by("created_at").values_list("pk", flat=True)[:batch])
        if not ids:
            return total
        deleted, _ = IdempotencyRecord.objects.filter(pk__in=ids).delete()
        total += deleted
