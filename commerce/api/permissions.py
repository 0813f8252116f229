"""DRF permissions that ask Django's permission system, the same question as the admin:

    permission_classes = [HasPermission("orders.cancel_order")]

Which role holds which permission is declared per app (commerce.accounts.roles)."""

from rest_framework.permissions import BasePermission

from commerce.accounts import roles


class HasPermission(BasePermission):
    """Allows active staff users holding every one of `perms` ("app_label.codename").
    An instance stands in for a class in `permission_classes` (DRF instantiates each entry
    by calling it; calling an instance returns it)."""

    def __init__(self, *perms: str):
        if not perms:
            raise ValueError("name at least one permission")
        self.perms = perms

    def __call__(self):
        return self

    def __repr__(self) -> str:
        return f"HasPermission({', '.join(map(repr, self.perms))})"

    def has_permission(self, request, view):
        return roles.can(request.user, *self.perms)


# Role-named aliases for code written before per-operation permissions; each asks the
# permission that defines the role. New code names the operation's permission instead.
IsStaff = HasPermission("orders.view_orderview")
IsSupportStaff = HasPermission("orders.cancel_order")
IsInventoryStaff = HasPermission("inventory.change_inventoryitem")
