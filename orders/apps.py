from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Orders"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the inline projection with the event store.
        # Business metrics from order facts (live-only policies).
        from orders import (
            metrics,  # noqa: F401
            projections,  # noqa: F401
        )
