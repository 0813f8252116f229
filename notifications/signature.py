"""Webhook signatures, Stripe-style: the header

    Commerce-Signature: t=1733059200,v1=5257a869e7ec…(64 hex digits)

carries the Unix time of signing and HMAC-SHA256(secret, f"{t}.{raw body}") in hex. The
subscriber recomputes it over the raw request body (before any JSON parsing), compares in
constant time, and rejects a timestamp outside its tolerance (a replayed old request).

This module uses the standard library only: a subscriber copies it as it is.

    from signature import verify, InvalidSignature
    try:
        verify(secret=SECRET, body=request.body, header=request.headers["Commerce-Signature"])
    except InvalidSignature:
        return 400

We also verify our providers' delivery receipts (email, push simulators) with it."""

import base64
import hashlib
import hmac
import time

HEADER = "Commerce-Signature"
DEFAULT_TOLERANCE_SECONDS = 300


class InvalidSignature(ValueError):
    """The header is missing or malformed, the signature does not match, or it is too old."""


def sign(*, secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The header value for `body` signed now (or at `timestamp`)."""
    t = int(time.time()) if timestamp is None else int(timestamp)
    return f"t={t},v1={_digest(secret, t, body)}"


def verify(*, secret: str, body: bytes, header: str | None,
           tolerance: int = DEFAULT_TOLERANCE_SECONDS, now: float | None = None) -> int:
    """Raise InvalidSignature unless `header` signs `body` with `secret` within `tolerance`
    seconds of now; return the signed timestamp. Several v1= values are accepted (one of
    them must match), so a secret can be rotated without downtime."""
    if not header:
        raise InvalidSignature("missing signature header")
    timestamp, candidates = None, []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1" and value:
            candidates.append(value)
    if timestamp is None or not candidates:
        raise InvalidSignature("malformed signature header")
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance:
        raise InvalidSignature("timestamp outside the tolerance")
    expected = _digest(secret, timestamp, body)
    if not any(hmac.compare_digest(expected, c) for c in candidates):
        raise InvalidSignature("signature does not match")
    return timestamp


def _digest(secret: str, timestamp: int, body: bytes) -> str:
    if isinstance(body, str):
        body = body.encode()
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def twilio_signature(*, auth_token: str, url: str, params: dict[str, str]) -> str:
    """Twilio's X-Twilio-Signature: base64(HMAC-SHA1(auth token, the full URL followed by
    every POST parameter sorted by name, name then value)). Our SMS receipts use it."""
    payload = url + "".join(f"{k}{params[k]}" for k in sorted(params))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()
