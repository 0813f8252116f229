"""Email through Django's email backend (SMTP in production and locally, against the SMTP
simulator). Our Message-ID carries the delivery id, so the provider's receipts (and the
simulator's) name the delivery they are about."""

import smtplib

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection

from commerce.core.http import ExternalUnavailable
from notifications.channels.base import Outgoing, SendRefused, SendResult

MESSAGE_ID_DOMAIN = "commerce.local"


def message_id(delivery_id: str) -> str:
    return f"{delivery_id}@{MESSAGE_ID_DOMAIN}"


class EmailAdapter:
    def send(self, message: Outgoing) -> SendResult:
        mid = message_id(message.delivery_id)
        headers = {"Message-ID": f"<{mid}>"}
        if message.unsubscribe_url:
            # RFC 8058 one-click unsubscribe: mail clients show their own button.
            headers["List-Unsubscribe"] = f"<{message.unsubscribe_url}>"
            headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        email = EmailMultiAlternatives(
            subject=message.subject, body=message.body, from_email=settings.DEFAULT_FROM_EMAIL,
            to=[message.recipient], headers=headers,
            connection=get_connection(fail_silently=False, timeout=settings.EMAIL_TIMEOUT))
        if message.html:
            email.attach_alternative(message.html, "text/html")
        try:
            email.send()
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            if all(code >= 500 for code in codes):
                raise SendRefused(f"recipient refused: {exc.recipients}", status=codes[0]) \
                    from exc
            raise ExternalUnavailable("SMTP server deferred the recipient.") from exc
        except smtplib.SMTPResponseException as exc:
            if exc.smtp_code >= 500:
                raise SendRefused(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}",
                                  status=exc.smtp_code) from exc
            raise ExternalUnavailable(f"SMTP {exc.smtp_code}: try again later.") from exc
        except (TimeoutError, smtplib.SMTPException, OSError) as exc:
            raise ExternalUnavailable(f"SMTP server unavailable: {exc}") from exc
        return SendResult(provider_message_id=mid)


def adapter() -> EmailAdapter:
    return EmailAdapter()
