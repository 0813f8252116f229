"""Cart events: a Prometheus counter plus a capped Redis stream, not the event store.

Why not the event store: a cart is short-lived, high-volume, lives in Redis and is not an
aggregate whose history anyone rebuilds; writing PostgreSQL rows on every click would put the
database on the hot path of browsing and break "cart works while only Redis is up". The
business fact that matters (an order) is stored by `orders` as `OrderPlaced` with
`channel="cart"`. The stream (`<prefix>:cart-events`, capped near STREAM_MAXLEN entries)
gives analytics consumers the funnel: created → item_added/removed → checked_out or abandoned,
enough for conversion and abandonment KPIs; the counters give the same rates live.

Stream entries never carry a guest token: carts are referred to by their storage id (a
customer id or a hash of the token)."""

import logging

import redis
from django.utils import timezone

from cart import store
from commerce.core import context, metrics
from commerce.core.redis import redis_client

logger = logging.getLogger(__name__)

STREAM_MAXLEN = 100_000  # approximate (XADD MAXLEN ~): analytics consumers read it promptly

CREATED = "created"
ITEM_ADDED = "item_added"
ITEM_UPDATED = "item_updated"
ITEM_REMOVED = "item_removed"
CLEARED = "cleared"
MERGED = "merged"
CHECKED_OUT = "checked_out"
ABANDONED = "abandoned"


def cart_event_record(*, event: str, cart_id: str, **data) -> None:
    """Count the event and append it to the stream. Best effort for the stream: the cart
    write it describes already happened, so a Redis blip here must not fail the request."""
    metrics.CART_EVENTS.labels(event=event).inc()
    fields = {
        "event": event,
        "cart": cart_id,
        "at": timezone.now().isoformat(),
        "correlation_id": context.correlation_id(),
        **{k: str(v) for k, v in data.items() if v is not None},
    }
    try:
        redis_client().xadd(
            store.stream_key(), fields,
            maxlen=STREAM_MAXLEN, approximate=True,
        )
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
        logger.warning("cart event not streamed", extra={"event": event, "error": str(exc)})
