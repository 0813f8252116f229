from django.core.management.base import BaseCommand, CommandError

from commerce.accounts import roles


class Command(BaseCommand):
    help = ("Make the staff role groups (support, inventory, admin) hold exactly the "
            "permissions the apps declare (commerce.accounts.roles). `migrate` does this too.")

    def handle(self, *args, **opts):
        missing = roles.sync_roles()
        declared = roles.role_permissions()
        for role in roles.ALL:
            count = "every permission" if role == roles.ADMIN else f"{len(declared[role])}"
            self.stdout.write(f"{role}: {count}")
        unknown = {role: perms for role, perms in missing.items() if perms}
        if unknown:
            raise CommandError(f"declared permissions that do not exist: {unknown}")
        self.stdout.write(self.style.SUCCESS("roles in sync"))
