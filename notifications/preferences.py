"""Customer preferences: channels per kind of message, language, phone number and push
token; and the unsubscribe link, which works without a login, once, and cannot be guessed
(a signed token naming the user, kind and channel, with a random nonce spent on use)."""

import re
import secrets

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse

from commerce.core.errors import DomainError, ErrorCode, ValidationFailed
from notifications import kinds
from notifications.models import NotificationPreference, SpentUnsubscribeToken

UNSUBSCRIBE_SALT = "notifications.unsubscribe"
UNSUBSCRIBE_MAX_AGE = 180 * 24 * 3600
E164 = re.compile(r"^\+[1-9]\d{6,14}$")


class UnsubscribeLinkInvalid(DomainError):
    code = ErrorCode.UNSUBSCRIBE_LINK_INVALID
    http_status = 404
    default_message = "This unsubscribe link is not valid."


class UnsubscribeLinkUsed(DomainError):
    code = ErrorCode.UNSUBSCRIBE_LINK_USED
    http_status = 410
    default_message = "This unsubscribe link has already been used."


def preference_for(user) -> NotificationPreference:
    """The user's preferences, or unsaved defaults (reading never writes)."""
    pref = NotificationPreference.objects.filter(user=user).first()
    return pref or NotificationPreference(user=user)


def channels_for(pref: NotificationPreference, kind: str) -> list[str]:
    """The channels to use for `kind`: the customer's choice, minus channels they have no
    address for; a transactional kind left with none falls back to email."""
    spec = kinds.KINDS[kind]
    chosen = pref.channels.get(kind, list(spec.default_channels))
    usable = [c for c in chosen if c in spec.channels and (
        (c != kinds.SMS or pref.phone_number) and (c != kinds.PUSH or pref.push_token))]
    if not usable and spec.transactional:
        usable = [kinds.EMAIL]
    return usable


def effective_channels(pref: NotificationPreference) -> dict[str, list[str]]:
    return {k.name: pref.channels.get(k.name, list(k.default_channels))
            for k in kinds.CUSTOMER_KINDS}


def preference_update(*, user, language: str | None = None, phone_number: str | None = None,
                      push_token: str | None = None,
                      channels: dict[str, list[str]] | None = None) -> NotificationPreference:
    """Change what is given; validate the result as a whole (SMS needs a phone number, push
    a token, a transactional kind at least one channel)."""
    with transaction.atomic():
        pref, _ = NotificationPreference.objects.select_for_update().get_or_create(user=user)
        errors: dict[str, list] = {}
        if language is not None:
            if language and language not in {code for code, _ in settings.LANGUAGES}:
                errors["language"] = [f"One of {', '.join(c for c, _ in settings.LANGUAGES)}."]
            pref.language = language
        if phone_number is not None:
            if phone_number and not E164.match(phone_number):
                errors["phone_number"] = ["An E.164 number, e.g. +14155550123."]
            pref.phone_number = phone_number
        if push_token is not None:
            pref.push_token = push_token
        if channels is not None:
            pref.channels = {**pref.channels, **_clean_channels(channels, errors)}
        _check_addresses(pref, errors)
        if errors:
            raise ValidationFailed(details=errors)
        pref.save()
        return pref


def _clean_channels(channels, errors) -> dict[str, list[str]]:
    if not isinstance(channels, dict):
        errors["channels"] = ["An object of kind → list of channels."]
        return {}
    cleaned, problems = {}, {}
    for kind, chosen in channels.items():
        spec = kinds.KINDS.get(kind)
        if spec is None or spec.audience != "customer":
            problems[kind] = ["Unknown kind of message."]
            continue
        if not isinstance(chosen, list) or not all(isinstance(c, str) for c in chosen):
            problems[kind] = ["A list of channels."]
            continue
        unknown = [c for c in chosen if c not in spec.channels]
        if unknown:
            problems[kind] = [f"Unknown channel(s): {', '.join(unknown)}; "
                              f"choose from {', '.join(spec.channels)}."]
        elif not chosen and spec.transactional:
            problems[kind] = ["This message is transactional: keep at least one channel."]
        else:
            cleaned[kind] = list(dict.fromkeys(chosen))
    if problems:
        errors["channels"] = [problems]
    return cleaned


def _check_addresses(pref, errors) -> None:
    chosen = {c for cs in effective_channels(pref).values() for c in cs}
    if kinds.SMS in chosen and not pref.phone_number:
        errors.setdefault("phone_number", []).append("Required to receive SMS.")
    if kinds.PUSH in chosen and not pref.push_token:
        errors.setdefault("push_token", []).append("Required to receive push messages.")


# --- unsubscribe -------------------------------------------------------------------------------
def unsubscribe_token(*, user_id, kind: str, channel: str) -> str:
    return signing.dumps({"u": str(user_id), "k": kind, "c": channel,
                          "n": secrets.token_hex(16)}, salt=UNSUBSCRIBE_SALT, compress=True)


def unsubscribe_url(*, user_id, kind: str, channel: str) -> str:
    token = unsubscribe_token(user_id=user_id, kind=kind, channel=channel)
    return settings.PUBLIC_BASE_URL + reverse("notification-unsubscribe", args=[token])


def unsubscribe_describe(*, token: str) -> dict:
    """What the link would do (the confirmation page); raises for a bad link."""
    claims = _claims(token)
    if SpentUnsubscribeToken.objects.filter(nonce=claims["n"]).exists():
        raise UnsubscribeLinkUsed()
    return {"kind": claims["k"], "channel": claims["c"]}


def unsubscribe(*, token: str) -> dict:
    """Stop `channel` for `kind` for the token's user. The token is spent in the same
    transaction: a second use raises UnsubscribeLinkUsed."""
    claims = _claims(token)
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(pk=claims["u"]).first()
    if user is None:
        raise UnsubscribeLinkInvalid()
    kind, channel = claims["k"], claims["c"]
    try:
        with transaction.atomic():
            SpentUnsubscribeToken.objects.create(nonce=claims["n"], user=user, kind=kind,
                                                 channel=channel)
            pref, _ = NotificationPreference.objects.select_for_update().get_or_create(
                user=user)
            current = effective_channels(pref)[kind]
            pref.channels = {**pref.channels, kind: [c for c in current if c != channel]}
            pref.save()
    except IntegrityError as exc:
        raise UnsubscribeLinkUsed() from exc
    return {"kind": kind, "channel": channel}


def _claims(token: str) -> dict:
    try:
        claims = signing.loads(token, salt=UNSUBSCRIBE_SALT, max_age=UNSUBSCRIBE_MAX_AGE)
    except signing.BadSignature as exc:  # also SignatureExpired
        raise UnsubscribeLinkInvalid() from exc
    spec = kinds.KINDS.get(claims.get("k")) if isinstance(claims, dict) else None
    if spec is None or spec.transactional or claims.get("c") not in spec.channels:
        raise UnsubscribeLinkInvalid()
    return claims
