from django.apps import AppConfig


class ShippingConfig(AppConfig):
    name = "shipping"
    verbose_name = "Shipping"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the read models' projection (fed by Order events) and the policies.
        from shipping import policies, projections  # noqa: F401
