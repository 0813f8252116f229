from django.apps import AppConfig

from commerce.accounts import roles


class SagasConfig(AppConfig):
    name = "sagas"
    verbose_name = "Sagas"
    default_auto_field = "django.db.models.BigAutoField"
    # Every staff role may follow sagas; repairing one (sagas.repair_saga) is admin's.
    role_permissions = {
        roles.SUPPORT: ("sagas.view_sagainstance", "sagas.view_sagastep"),
        roles.INVENTORY: ("sagas.view_sagainstance", "sagas.view_sagastep"),
    }

    def ready(self):
        # Registers the saga definitions and the policies that start them.
        from sagas import policies  # noqa: F401
