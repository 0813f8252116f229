from django.apps import AppConfig


class ShippingConfig(AppConfig):
    name = "shipping"
    verbose_name = "Shipping"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the shipping read models' projection (fed by Order events).
        from shipping import projections  # noqa: F401
