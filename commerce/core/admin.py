class ReadOnlyAdminMixin:
    """For admins and inlines of rows that only services write (events, projections,
    reservations): staff may look, never edit by hand."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def compact_id(value) -> str:
    """The first 8 hex digits of a UUID: enough to tell rows apart in a list (the full id
    is on the detail page and in the cell's title)."""
    return str(value)[:8] if value else "-"


def compact_id_html(value):
    from django.utils.html import format_html

    return format_html('<span title="{}">{}</span>', value, compact_id(value)) if value else "-"


def actor_emails(labels) -> dict[str, str]:
    """`user:<uuid>` event actors → the user's email (one query); other actors (sagas,
    system) as they are."""
    import contextlib
    import uuid

    from django.contrib.auth import get_user_model

    labels = {lb for lb in labels if lb}
    ids = {}
    for label in labels:
        if label.startswith("user:"):
            with contextlib.suppress(ValueError):
                ids[label] = uuid.UUID(label[5:])
    emails = dict(get_user_model().objects.filter(pk__in=ids.values())
                  .values_list("pk", "email")) if ids else {}
    return {label: emails.get(ids[label], label) if label in ids else label
            for label in labels}



def actor_email_subquery(field: str = "actor"):
    """For annotating a queryset whose `field` holds event actors: the user's email when the
    actor is `user:<uuid>` (compared as text, so other actors simply match nothing)."""
    from django.contrib.auth import get_user_model
    from django.db.models import CharField, OuterRef, Subquery, Value
    from django.db.models.functions import Cast, Concat

    users = (get_user_model().objects
             .annotate(label=Concat(Value("user:"), Cast("id", CharField()),
                                    output_field=CharField()))
             .filter(label=OuterRef(field)).values("email")[:1])
    return Subquery(users, output_field=CharField())
