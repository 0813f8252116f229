from django.apps import AppConfig


class SagasConfig(AppConfig):
    name = "sagas"
    verbose_name = "Sagas"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Registers the saga definitions and the policies that start them.
        from sagas import policies  # noqa: F401
