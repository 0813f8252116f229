"""Push through an FCM-like HTTP API (FCM HTTP v1's shape): POST
/v1/projects/{project}/messages:send with a bearer token and
{"message": {"token", "notification": {"title", "body"}, "data"}}; the answer names the
message ("projects/…/messages/…"). Delivery receipts come to our webhook, signed
(notifications/receipts.py)."""

from functools import lru_cache

from django.conf import settings

from commerce.core.http import ExternalRefused, HttpService
from notifications.channels.base import Outgoing, SendRefused, SendResult


class PushApi(HttpService):
    service = "push"

    def __init__(self, *, base_url: str, project_id: str, api_token: str):
        super().__init__(base_url=base_url, headers={"Authorization": f"Bearer {api_token}"})
        self.project_id = project_id

    def send(self, message: Outgoing) -> SendResult:
        payload = {"message": {
            "token": message.recipient,
            "notification": {"title": message.subject, "body": message.body},
            "data": {"delivery_id": message.delivery_id},
        }}
        try:
            response = self.call("send_push", "POST",
                                 f"/v1/projects/{self.project_id}/messages:send", json=payload,
                                 headers={"Idempotency-Key": message.delivery_id})
        except ExternalRefused as exc:
            error = exc.body.get("error", {}) if isinstance(exc.body, dict) else {}
            raise SendRefused(f"{error.get('status', exc.status)}: "
                              f"{error.get('message', 'refused')}", status=exc.status) from exc
        return SendResult(provider_message_id=response.json()["name"])


@lru_cache(maxsize=8)
def _api(base_url: str, project_id: str, api_token: str) -> PushApi:
    return PushApi(base_url=base_url, project_id=project_id, api_token=api_token)


def adapter() -> PushApi:
    return _api(settings.PUSH_API_URL, settings.PUSH_PROJECT_ID, settings.PUSH_API_TOKEN)
