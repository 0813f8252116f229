from django.apps import AppConfig

from commerce.accounts import roles

_VIEW = ("shipping.view_shipment", "shipping.view_shipmentline", "shipping.view_trackingevent",
         "shipping.view_returnrequest", "shipping.view_returnline")


class ShippingConfig(AppConfig):
    name = "shipping"
    verbose_name = "Shipping"
    default_auto_field = "django.db.models.BigAutoField"
    # Which staff role may do what (commerce.accounts.roles; admin holds everything).
    role_permissions = {
        roles.SUPPORT: (*_VIEW, "shipping.create_shipment", "shipping.void_shipment",
                        "shipping.decide_return", "shipping.receive_return"),
        # the warehouse packs parcels and unpacks returns; deciding a return is support's
        roles.INVENTORY: (*_VIEW, "shipping.create_shipment", "shipping.void_shipment",
                          "shipping.receive_return"),
    }

    def ready(self) -> None:
        # Registers the read models' projection (fed by Order events) and the policies.
        from shipping import policies, projections  # noqa: F401
