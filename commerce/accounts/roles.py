"""Staff groups. Customers belong to none; staff users are `is_staff` plus one of these."""

SUPPORT = "support"      # read all orders, cancel, approve refunds
INVENTORY = "inventory"  # manage catalog and stock
ADMIN = "admin"          # everything

ALL = (SUPPORT, INVENTORY, ADMIN)


def has_role(user, *roles: str) -> bool:
    if user is None or not user.is_authenticated or not user.is_staff:
        return False
    if user.is_superuser:
        return True
    wanted = set(roles) | {ADMIN}
    return user.groups.filter(name__in=wanted).exists()
