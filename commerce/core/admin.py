class ReadOnlyAdminMixin:
    """For admins and inlines of rows that only services write (events, projections,
    reservations): staff may look, never edit by hand."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
