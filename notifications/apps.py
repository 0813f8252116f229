from django.apps import AppConfig

from commerce.accounts import roles


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications and webhooks"
    default_auto_field = "django.db.models.BigAutoField"
    # Support sees what customers were sent (and resends it) and what the templates say;
    # templates, webhook endpoints and their deliveries are the admin role's.
    role_permissions = {
        roles.SUPPORT: ("notifications.view_delivery", "notifications.resend_delivery",
                        "notifications.view_notificationpreference",
                        "notifications.view_templateoverride"),
    }
