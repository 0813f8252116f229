"""SMS through a Twilio-like HTTP API: POST /2010-04-01/Accounts/{sid}/Messages.json,
form-encoded To/From/Body/StatusCallback, HTTP Basic auth (account sid, auth token). The
provider later POSTs the message's status to StatusCallback, signed with
X-Twilio-Signature (notifications/receipts.py verifies it)."""

from functools import lru_cache

from django.conf import settings
from django.urls import reverse

from commerce.core.http import ExternalRefused, HttpService
from notifications.channels.base import Outgoing, SendRefused, SendResult


class SmsApi(HttpService):
    service = "sms"

    def __init__(self, *, base_url: str, account_sid: str, auth_token: str, from_number: str):
        super().__init__(base_url=base_url, auth=(account_sid, auth_token))
        self.account_sid = account_sid
        self.from_number = from_number

    def send(self, message: Outgoing) -> SendResult:
        callback = settings.PUBLIC_BASE_URL + reverse("notification-receipt-sms")
        try:
            response = self.call(
                "send_sms", "POST", f"/2010-04-01/Accounts/{self.account_sid}/Messages.json",
                data={"To": message.recipient, "From": self.from_number, "Body": message.body,
                      "StatusCallback": callback},
                headers={"Idempotency-Key": message.delivery_id})
        except ExternalRefused as exc:
            body = exc.body if isinstance(exc.body, dict) else {}
            raise SendRefused(f"{body.get('code', exc.status)}: "
                              f"{body.get('message', 'refused')}", status=exc.status) from exc
        return SendResult(provider_message_id=response.json()["sid"])


@lru_cache(maxsize=8)
def _api(base_url: str, account_sid: str, auth_token: str, from_number: str) -> SmsApi:
    return SmsApi(base_url=base_url, account_sid=account_sid, auth_token=auth_token,
                  from_number=from_number)


def adapter() -> SmsApi:
    return _api(settings.SMS_API_URL, settings.SMS_ACCOUNT_SID, settings.SMS_AUTH_TOKEN,
                settings.SMS_FROM_NUMBER)
