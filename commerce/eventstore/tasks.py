from celery import shared_task

from commerce.core import wakeups
from commerce.eventstore import outbox


@shared_task(name="eventstore.relay_outbox", ignore_result=True)
def relay_outbox() -> int:
    # Clear the "requested" flag first so commits during this run request another pass.
    wakeups.clear(outbox.RELAY_PENDING_KEY)
    return outbox.relay_all()
