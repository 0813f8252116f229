from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework_simplejwt.tokens import RefreshToken

from commerce.accounts.models import normalize_email
from commerce.core.errors import DomainError, ErrorCode, ValidationFailed


class EmailTaken(DomainError):
    code = ErrorCode.EMAIL_TAKEN
    http_status = 409
    default_message = "An account with this email already exists."


def user_register(*, email: str, password: str, full_name: str = ""):
    """A new customer account. If a guest checkout already made a guest account for this
    email, registering takes it over (its orders join the new account)."""
    User = get_user_model()
    email = normalize_email(email)
    try:
        validate_password(password, user=User(email=email))
    except DjangoValidationError as exc:
        raise ValidationFailed(details={"password": list(exc.messages)}) from exc
    with transaction.atomic():
        guest = User.objects.select_for_update().filter(email=email, is_guest=True).first()
        if guest is not None:
            guest.is_guest = False
            guest.full_name = full_name
            guest.set_password(password)
            guest.save(update_fields=["is_guest", "full_name", "password"])
            return guest
    try:
        with transaction.atomic():
            return User.objects.create_user(email=email, password=password, full_name=full_name)
    except IntegrityError as exc:
        raise EmailTaken(details={"email": [EmailTaken.default_message]}) from exc


def guest_customer_get_or_create(*, email: str):
    """The customer a guest checkout with `email` orders for: the account with this email
    if there is one (the order joins it), else a guest account (no password). Runs in the
    caller's transaction."""
    User = get_user_model()
    email = normalize_email(email)
    user = User.objects.filter(email=email).first()
    if user is not None:
        return user
    try:
        with transaction.atomic():
            user = User(email=email, is_guest=True)
            user.set_unusable_password()
            user.save()
            return user
    except IntegrityError:  # a concurrent checkout with the same email made it first
        return User.objects.get(email=email)


class _RefreshToken(RefreshToken):
    def check_blacklist(self):
        pass  # revoking a revoked token again is a no-op, not an error


def token_revoke(*, refresh: str) -> None:
    """Blacklist a genuine, unexpired refresh token (TokenError otherwise: 401)."""
    _RefreshToken(refresh).blacklist()


def tokens_purge_expired() -> int:
    """Forget refresh tokens past their expiry (the blacklist needs them no longer).
    Returns how many went. Idempotent (beat: accounts.purge_expired_tokens)."""
    from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

    deleted, _ = OutstandingToken.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted


def staff_create(*, email: str, password: str, roles: tuple[str, ...] = ()):
    """Create (or update) a staff user in the given groups; used by seeding and tests."""
    User = get_user_model()
    with transaction.atomic():
        user, _ = User.objects.get_or_create(email=normalize_email(email),
                                             defaults={"is_staff": True})
        user.is_staff = True
        user.set_password(password)
        user.save()
        for role in roles:
            group, _ = Group.objects.get_or_create(name=role)
            user.groups.add(group)
    return user
