"""Channel adapters: one per way of reaching someone, each speaking its provider's real
protocol (SMTP through Django's email backend; Twilio-like, FCM-like and Slack HTTP APIs
through commerce.core.http.HttpService). `adapter_for(channel)` picks one."""

from notifications.channels.base import Outgoing, SendRefused, SendResult, adapter_for

__all__ = ["Outgoing", "SendRefused", "SendResult", "adapter_for"]
