from celery import shared_task

from commerce.accounts.services import tokens_purge_expired


@shared_task(name="accounts.purge_expired_tokens")
def purge_expired_tokens() -> int:
    """Idempotent: deletes refresh-token records past their expiry."""
    return tokens_purge_expired()
