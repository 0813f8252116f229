from rest_framework.permissions import BasePermission

from commerce.accounts import roles


class IsStaff(BasePermission):
    """Any staff member (support, inventory or admin group, or a superuser)."""

    def has_permission(self, request, view):
        return roles.has_role(request.user, *roles.ALL)


class IsInventoryStaff(BasePermission):
    def has_permission(self, request, view):
        return roles.has_role(request.user, roles.INVENTORY)


class IsSupportStaff(BasePermission):
    def has_permission(self, request, view):
        return roles.has_role(request.user, roles.SUPPORT)
