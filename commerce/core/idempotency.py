"""Idempotency-Key semantics (Stripe's): same key + same body → the original response;
same key + different body → 422; concurrent duplicates wait for the first and replay it.
A key is remembered for settings.IDEMPOTENCY_KEY_TTL_HOURS (Stripe: 24 h); after that the
same key is a new request, and the beat task purges the record.

The work, its outcome and the record are one transaction, serialised per key by a
transaction-level advisory lock, so a crash never leaves a key pointing at nothing and two
concurrent duplicates never both run."""

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
    work: Callable[[], tuple[int, Any]],
) -> IdempotentResult:
    """Run `work()` (returning (status, body)) at most once per (scope, owner, key)."""
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ValidationFailed(
            "Idempotency-Key must be 1 to 255 characters.",
            details={"Idempotency-Key": [f"Must be 1 to {MAX_KEY_LENGTH} characters."]},
        )
    fingerprint = request_fingerprint(payload)
    with transaction.atomic():
        _lock(scope, owner, key)
        record = IdempotencyRecord.objects.filter(scope=scope, owner=owner, key=key).first()
        if record is not None and record.created_at < _window_start():
            record.delete()  # expired, not purged yet: the key starts afresh
            record = None
        if record is not None:
            if record.request_hash != fingerprint:
                raise IdempotencyKeyReused(details={"Idempotency-Key": key})
            return IdempotentResult(record.response_status, record.response_body, True)
        status, body = work()
        IdempotencyRecord.objects.create(
            scope=scope, owner=owner, key=key, request_hash=fingerprint,
            response_status=status, response_body=body,
        )
    return IdempotentResult(status, body, False)


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


def _lock(scope: str, owner: str, key: str) -> None:
    digest = hashlib.sha256(f"{scope}\x00{owner}\x00{key}".encode()).digest()
    lock_id = int.from_bytes(digest[:8], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_id])
