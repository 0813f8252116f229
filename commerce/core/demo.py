from commerce.accounts import roles
from commerce.accounts.models import User
from commerce.accounts.services import staff_create, user_register

DEMO_PASSWORD = "demo-pass-2026"
CUSTOMERS = ["alice@example.com", "bob@example.com"]


def seed(stdout) -> None:
    """Demo logins (all with DEMO_PASSWORD): two customers, one staff user per role and a
    superuser for the admin."""
    for email in CUSTOMERS:
        if not User.objects.filter(email=email).exists():
            user_register(email=email, password=DEMO_PASSWORD)
    for role in roles.ALL:
        staff_create(email=f"{role}@example.com", password=DEMO_PASSWORD, roles=(role,))
    admin = staff_create(email="root@example.com", password=DEMO_PASSWORD, roles=(roles.ADMIN,))
    if not admin.is_superuser:
        admin.is_superuser = True
        admin.save(update_fields=["is_superuser"])
    stdout.write(f"  logins: {', '.join(CUSTOMERS)}, support@/inventory@/admin@/root@example.com"
                 f" — password {DEMO_PASSWORD}")
