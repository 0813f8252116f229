from django.apps import AppConfig

from commerce.accounts import roles


class InventoryConfig(AppConfig):
    name = "inventory"
    verbose_name = "Inventory"
    default_auto_field = "django.db.models.BigAutoField"
    # Which staff role may do what with stock (commerce.accounts.roles).
    role_permissions = {
        roles.INVENTORY: (
            "inventory.view_inventoryitem", "inventory.add_inventoryitem",
            "inventory.change_inventoryitem", "inventory.receive_stock",
            "inventory.adjust_stock", "inventory.view_stockmovement",
            "inventory.view_reservation", "inventory.view_reservationline",
            "inventory.manage_reservation",
        ),
    }

    def ready(self) -> None:
        # Registers the inline projection with the event store.
        from inventory import projections  # noqa: F401
