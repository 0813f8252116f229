"""Delivery receipts from providers (status callbacks), verified before anything changes:
- SMS (Twilio-like): form POST with MessageSid/MessageStatus, signed X-Twilio-Signature =
  base64(HMAC-SHA1(auth token, full URL + every POST parameter sorted by name, name+value)).
- push (FCM-like) and email (SMTP provider's event webhook): JSON signed with our
  Commerce-Signature scheme (notifications/signature.py), each with its own secret.
A receipt is replay-safe: it only moves a `sent` delivery on, so a repeat changes nothing.
An unknown message id answers 404 and the provider retries (its receipt may overtake our
record of the send)."""

import hmac
import json

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.parsers import FormParser, JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from commerce.core.errors import DomainError, ErrorCode, ValidationFailed
from notifications import signature
from notifications.delivery import delivery_apply_receipt

TWILIO_STATES = {"delivered": "delivered", "undelivered": "undelivered", "failed": "failed",
                 "sent": "sent", "queued": "queued", "sending": "sending"}


class InvalidReceiptSignature(DomainError):
    code = ErrorCode.INVALID_SIGNATURE
    http_status = 400
    default_message = "The request signature is missing or does not match."


class ReceiptOutput(serializers.Serializer):
    result = serializers.ChoiceField(choices=["applied", "ignored"])


class SmsReceiptInput(serializers.Serializer):
    """Twilio's status callback parameters (form-encoded; more may come, and are signed)."""

    MessageSid = serializers.CharField()
    MessageStatus = serializers.ChoiceField(choices=sorted(TWILIO_STATES))
    ErrorCode = serializers.CharField(required=False)


class PushReceiptInput(serializers.Serializer):
    message_id = serializers.CharField()
    status = serializers.ChoiceField(choices=["delivered", "failed"])
    error = serializers.CharField(required=False)


class EmailReceiptInput(serializers.Serializer):
    message_id = serializers.CharField()
    event = serializers.ChoiceField(choices=["delivered", "bounced"])
    error = serializers.CharField(required=False)


class _ReceiptApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []


class SmsReceiptApi(_ReceiptApi):
    """Twilio-like status callback."""

    parser_classes = [FormParser]

    @extend_schema(request={"application/x-www-form-urlencoded": SmsReceiptInput},
                   responses={200: ReceiptOutput}, tags=["notifications"])
    def post(self, request):
        params = {k: request.POST.get(k) for k in request.POST}
        url = settings.PUBLIC_BASE_URL + request.get_full_path()
        expected = signature.twilio_signature(auth_token=settings.SMS_AUTH_TOKEN, url=url,
                                              params=params)
        given = request.headers.get("X-Twilio-Signature", "")
        if not hmac.compare_digest(expected, given):
            raise InvalidReceiptSignature()
        state = TWILIO_STATES.get(params.get("MessageStatus", ""))
        if state is None or not params.get("MessageSid"):
            raise ValidationFailed(details={"MessageStatus": ["Unknown or missing."]})
        error = params.get("ErrorCode") or ""
        result = delivery_apply_receipt(channel="sms", provider_message_id=params["MessageSid"],
                                        state=state, error=f"error code {error}" if error else "")
        return Response({"result": result})


class _SignedJsonReceiptApi(_ReceiptApi):
    parser_classes = [JSONParser]
    channel = ""
    secret_setting = ""
    state_field = "status"

    def receive(self, request):
        raw = request.body  # the exact bytes that were signed, before parsing
        try:
            signature.verify(secret=getattr(settings, self.secret_setting), body=raw,
                             header=request.headers.get(signature.HEADER))
        except signature.InvalidSignature as exc:
            raise InvalidReceiptSignature(str(exc)) from exc
        try:
            data = json.loads(raw)
            message_id, state = str(data["message_id"]), str(data[self.state_field])
        except (ValueError, KeyError, TypeError) as exc:
            raise ValidationFailed(details={"body": [
                f"JSON with message_id and {self.state_field}."]}) from exc
        result = delivery_apply_receipt(channel=self.channel, provider_message_id=message_id,
                                        state=state, error=str(data.get("error") or ""))
        return Response({"result": result})


class PushReceiptApi(_SignedJsonReceiptApi):
    """FCM-like delivery receipt: {"message_id", "status": delivered|failed, "error"}."""

    channel, secret_setting = "push", "PUSH_RECEIPT_SECRET"

    @extend_schema(request=PushReceiptInput, responses={200: ReceiptOutput},
                   tags=["notifications"])
    def post(self, request):
        return self.receive(request)


class EmailReceiptApi(_SignedJsonReceiptApi):
    """Mail provider event: {"message_id", "event": delivered|bounced, "error"}."""

    channel, secret_setting, state_field = "email", "EMAIL_RECEIPT_SECRET", "event"

    @extend_schema(request=EmailReceiptInput, responses={200: ReceiptOutput},
                   tags=["notifications"])
    def post(self, request):
        return self.receive(request)
