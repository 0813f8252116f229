"""Which cart a request means: the signed-in customer's, or a guest cart named by its token.

A guest token is a 256-bit random bearer secret. Redis only ever stores its SHA-256, so
keys, the expiry index and the event stream never reveal a usable token."""

import hashlib
import re
import secrets
from dataclasses import dataclass

from commerce.core.errors import NotFound

GUEST = "guest"
_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{32,64}$")


@dataclass(frozen=True)
class CartRef:
    cart_id: str  # storage id: "u:<customer uuid>" or "g:<sha256 of token>"
    owner: str  # customer uuid, or "guest"
    must_exist: bool  # guest carts named by a token must exist (else 404)
    token: str | None = None  # set only for a guest cart created by this request

    @property
    def is_guest(self) -> bool:
        return self.owner == GUEST


def cart_ref_for_user(user) -> CartRef:
    return CartRef(cart_id=f"u:{user.pk}", owner=str(user.pk), must_exist=False)


def cart_ref_for_token(token: str) -> CartRef:
    if not token or not _TOKEN_RE.match(token):
        raise NotFound("Cart not found.")
    digest = hashlib.sha256(token.encode()).hexdigest()
    return CartRef(cart_id=f"g:{digest}", owner=GUEST, must_exist=True)


def cart_ref_new_guest() -> CartRef:
    token = secrets.token_urlsafe(32)
    ref = cart_ref_for_token(token)
    return CartRef(cart_id=ref.cart_id, owner=GUEST, must_exist=False, token=token)
