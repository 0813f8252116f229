from django.apps import AppConfig

from commerce.accounts import roles


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Orders"
    default_auto_field = "django.db.models.BigAutoField"
    # Which staff role may do what with orders (commerce.accounts.roles).
    role_permissions = {
        roles.SUPPORT: ("orders.view_orderview", "orders.view_orderline", "orders.update_order",
                        "orders.cancel_order", "orders.approve_cancellation",
                        "orders.ship_order", "orders.archive_order", "orders.refund_order"),
        # stock work needs to see the orders it holds stock for, never to change them
        roles.INVENTORY: ("orders.view_orderview", "orders.view_orderline"),
    }

    def ready(self) -> None:
        # Registers the inline projection and the event upcasters with the event store.
        from inventory import owners
        from orders import metrics, projections, selectors, upcasters  # noqa: F401 (metrics: policies)

        # inventory_verify asks which orders hold stock (inventory imports no order code).
        owners.register(owners.ReservationOwners(
            states=selectors.order_stock_states,
            needing_confirmed_stock=selectors.orders_needing_confirmed_stock))
