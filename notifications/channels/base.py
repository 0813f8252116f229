"""The adapter interface and the two ways a send can fail.

- `SendRefused`: the provider refused this message as sent (a 4xx, an invalid number, a
  rejected recipient). Retrying cannot help: the delivery fails at once.
- `commerce.core.http.ExternalUnavailable` (or any connection error): the provider is down
  or slow. The delivery is retried later with backoff."""

from dataclasses import dataclass
from typing import Protocol


class SendRefused(Exception):
    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Outgoing:
    delivery_id: str       # our id: the provider's idempotency key, the email's Message-ID
    recipient: str
    subject: str
    body: str
    html: str = ""
    unsubscribe_url: str = ""


@dataclass(frozen=True)
class SendResult:
    provider_message_id: str
    delivered: bool = False  # the provider's acceptance is the delivery (Slack)


class Adapter(Protocol):
    def send(self, message: Outgoing) -> SendResult: ...


def adapter_for(channel: str) -> Adapter:
    from notifications.channels import email, push, slack, sms

    return {"email": email.adapter, "sms": sms.adapter, "push": push.adapter,
            "slack": slack.adapter}[channel]()
