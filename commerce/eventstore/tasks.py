import contextlib

from celery import shared_task

from commerce.core.redis import redis_client
from commerce.eventstore import outbox


@shared_task(name="eventstore.relay_outbox", ignore_result=True)
def relay_outbox() -> int:
    # Clear the "requested" flag first so commits during this run request another pass;
    # relaying matters more than the flag, so a Redis error here is not fatal.
    with contextlib.suppress(Exception):
        redis_client().delete(outbox.RELAY_PENDING_KEY)
    return outbox.relay_all()
