"""The kinds of message we send: who gets them, on which channels, which event triggers
them, and whether a customer may switch them off. One name per kind, used alike in the
template folders (templates/notifications/<kind>/), preferences, deliveries and the docs."""

from dataclasses import dataclass

EMAIL, SMS, PUSH, SLACK = "email", "sms", "push", "slack"
CUSTOMER_CHANNELS = (EMAIL, SMS, PUSH)
# Which files a channel's message is made of (templates/notifications/<kind>/<file>).
CHANNEL_FILES = {EMAIL: ("email.txt", "email.html"), SMS: ("sms.txt",), PUSH: ("push.txt",),
                 SLACK: ("slack.txt",)}


@dataclass(frozen=True)
class Kind:
    name: str
    audience: str               # "customer" or "staff"
    trigger: str                # the event(s) that cause it, for docs and the admin
    transactional: bool = True  # a customer cannot switch every channel off
    channels: tuple[str, ...] = CUSTOMER_CHANNELS
    default_channels: tuple[str, ...] = (EMAIL,)


KINDS: dict[str, Kind] = {k.name: k for k in (
    Kind("order_confirmed", "customer", "OrderConfirmed (the receipt, with the totals)"),
    Kind("order_failed", "customer", "OrderFailed (payment declined, or out of stock)"),
    Kind("order_cancelled", "customer", "OrderCancelled (with what was refunded)"),
    Kind("order_refunded", "customer", "RefundIssued outside a cancellation"),
    Kind("order_shipped", "customer", "OrderShipped (carrier and tracking link from "
         "ShipmentCreated)", transactional=False),
    Kind("order_delivered", "customer", "OrderDelivered", transactional=False),
    Kind("return_approved", "customer", "ReturnApproved (with the return label)"),
    Kind("low_stock", "staff", "LowStockReached (available fell to the threshold)",
         channels=(SLACK,), default_channels=(SLACK,)),
    Kind("saga_failed", "staff", "SagaFailed (needs a person)", channels=(SLACK,),
         default_channels=(SLACK,)),
    Kind("cancellation_awaiting_approval", "staff", "SagaAwaitingApproval",
         channels=(SLACK,), default_channels=(SLACK,)),
)}

CUSTOMER_KINDS = tuple(k for k in KINDS.values() if k.audience == "customer")


def template_names(kind: str, channel: str) -> tuple[str, ...]:
    return tuple(f"notifications/{kind}/{name}" for name in CHANNEL_FILES[channel])
