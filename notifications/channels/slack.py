"""Staff messages through a Slack incoming webhook: POST {"text": …} to the webhook URL.
Slack answers 200 "ok" once the message is in the channel (that is the delivery: there are
no later receipts), or 4xx with a reason (invalid_payload, channel_not_found, …)."""

from functools import lru_cache
from urllib.parse import urlsplit

from django.conf import settings

from commerce.core.http import ExternalRefused, HttpService
from notifications.channels.base import Outgoing, SendRefused, SendResult


class SlackWebhook(HttpService):
    service = "slack"

    def __init__(self, *, webhook_url: str):
        parts = urlsplit(webhook_url)
        super().__init__(base_url=f"{parts.scheme}://{parts.netloc}")
        self.path = parts.path or "/"

    def send(self, message: Outgoing) -> SendResult:
        try:
            self.call("post_message", "POST", self.path,
                      json={"text": message.body, "mrkdwn": True})
        except ExternalRefused as exc:
            raise SendRefused(f"slack refused the message: {exc.body}", status=exc.status) \
                from exc
        return SendResult(provider_message_id="", delivered=True)


@lru_cache(maxsize=8)
def _api(webhook_url: str) -> SlackWebhook:
    return SlackWebhook(webhook_url=webhook_url)


def adapter() -> SlackWebhook:
    return _api(settings.SLACK_WEBHOOK_URL)
