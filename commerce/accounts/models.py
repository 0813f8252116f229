import uuid

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone


def normalize_email(email: str) -> str:
    """Emails are matched case-insensitively: stored and looked up lower-cased."""
    return (email or "").strip().lower()


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, username):
        # login (ModelBackend) asks this: `Mixed@Example.COM` finds `mixed@example.com`
        return self.get(email=normalize_email(username))

    def create_user(self, email: str, password: str | None = None, **extra):
        if not email:
            raise ValueError("email is required")
        user = self.model(email=normalize_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A customer or a staff member. UUID ids so they can travel in events and tokens."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    # Made by a guest checkout: no password, cannot sign in. Registering with its email
    # turns it into a full account that keeps its orders.
    is_guest = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        db_table = "users"
        ordering = ["email"]
        constraints = [
            # one account per address, whatever the letter case (admin-made users included)
            models.UniqueConstraint(Lower("email"), name="users_email_ci_uniq"),
        ]

    def clean(self):
        super().clean()
        self.email = normalize_email(self.email)

    def __str__(self) -> str:
        return self.email
