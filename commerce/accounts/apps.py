from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_roles(sender, using=None, apps=None, **kwargs):
    from django.apps import apps as global_apps

    from commerce.accounts import roles

    roles.sync_roles(apps=apps or global_apps, using=using)


class AccountsConfig(AppConfig):
    name = "commerce.accounts"
    label = "accounts"
    verbose_name = "Accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # After every migrate (and a test database flush), the role groups hold exactly the
        # declared permissions, including those of models created in this run.
        post_migrate.connect(_sync_roles, sender=self, dispatch_uid="accounts.sync_roles")
