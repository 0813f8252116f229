from celery import shared_task

from commerce.core.idempotency import idempotency_records_purge


@shared_task(name="core.purge_idempotency_records")
def purge_idempotency_records() -> int:
    """Idempotent: deletes Idempotency-Key records older than their window."""
    return idempotency_records_purge()
