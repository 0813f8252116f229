from celery import shared_task

from cart.services import cart_record_abandoned


@shared_task(name="cart.record_abandoned", ignore_result=True)
def record_abandoned() -> int:
    """Beat task: count carts that expired with items. Idempotent: each expired cart is
    claimed once in Redis, so overlapping or repeated runs never count it twice."""
    return cart_record_abandoned()
