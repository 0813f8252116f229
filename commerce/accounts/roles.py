"""Staff roles are Django groups holding real model permissions; the API
(commerce.api.permissions.HasPermission) and the admin ask the same question: `can(user,
"app_label.codename")`.

Which role holds which permission is declared by each app, for its own models, on its
AppConfig (the kernel imports no app):

    class OrdersConfig(AppConfig):
        role_permissions = {roles.SUPPORT: ("orders.view_orderview", "orders.cancel_order")}

`admin` holds every permission there is. `sync_roles` makes the groups exactly what the
declarations say; it runs in a data migration (accounts 0003, and each app's migration that
adds permissions), after every `migrate` (post_migrate) and as `manage.py sync_roles`.
See docs/CONTRACTS.md "Staff roles and permissions"."""

from django.apps import apps as global_apps
from django.db import DEFAULT_DB_ALIAS

SUPPORT = "support"      # orders and cancellations
INVENTORY = "inventory"  # catalog and stock
ADMIN = "admin"          # everything

ALL = (SUPPORT, INVENTORY, ADMIN)


def can(user, *perms: str) -> bool:
    """Whether `user` may do what `perms` name. Only active staff accounts hold permissions
    (the admin's own rule for who may enter); superusers hold them all."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return bool(user.is_active and user.is_staff and user.has_perms(perms))


def role_permissions() -> dict[str, set[str]]:
    """role → "app_label.codename" permissions, merged from every app's declaration (the
    admin role is not listed: it holds everything)."""
    merged: dict[str, set[str]] = {SUPPORT: set(), INVENTORY: set()}
    for config in global_apps.get_app_configs():
        for role, perms in getattr(config, "role_permissions", {}).items():
            if role not in merged:
                raise ValueError(f"{config.label}: unknown role {role!r} (one of {ALL})")
            merged[role].update(perms)
    return merged


def has_role(user, *role_names: str) -> bool:
    """Whether `user` holds every permission of one of these roles (admin: of every
    permission there is). Prefer `can(user, perm)` for the operation at hand; this is for
    callers that think in roles."""
    if not can(user):
        return False
    declared = role_permissions()
    for role in role_names:
        if role == ADMIN:
            from django.contrib.auth.models import Permission

            wanted = {f"{a}.{c}" for a, c in Permission.objects.values_list(
                "content_type__app_label", "codename")}
        else:
            wanted = declared[role]
        if wanted <= user.get_all_permissions():
            return True
    return False


def sync_roles(*, apps=global_apps, using: str = DEFAULT_DB_ALIAS) -> dict[str, list[str]]:
    """Create the role groups and give each exactly its declared permissions (admin: all).
    Permissions of models not migrated yet are skipped and returned per role; the migration
    that creates them syncs again. Idempotent. Works with historical `apps` in a migration."""
    from django.contrib.auth.management import create_permissions

    for config in global_apps.get_app_configs():
        create_permissions(config, verbosity=0, interactive=False, using=using, apps=apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    existing = {f"{app_label}.{codename}": pk for pk, app_label, codename in
                Permission.objects.using(using).values_list(
                    "pk", "content_type__app_label", "codename")}
    wanted = {**role_permissions(), ADMIN: set(existing)}
    missing = {}
    for role in ALL:
        group, _ = Group.objects.using(using).get_or_create(name=role)
        group.permissions.set([existing[p] for p in wanted[role] if p in existing])
        missing[role] = sorted(p for p in wanted[role] if p not in existing)
    return missing


def sync_in_migration(apps, schema_editor):
    """`migrations.RunPython(roles.sync_in_migration, migrations.RunPython.noop)` in the
    migration that adds an app's models or custom permissions."""
    sync_roles(apps=apps, using=schema_editor.connection.alias)
