from celery import shared_task

from inventory import services


@shared_task(name="inventory.expire_reservations", ignore_result=True)
def expire_reservations() -> int:
    """Beat task (commerce/celery.py): release reservations whose deadline passed.
    Idempotent: each reservation is re-checked under its lock before it expires."""
    return services.reservations_expire_due()
