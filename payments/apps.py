from django.apps import AppConfig

from commerce.accounts import roles


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = "Payments"
    default_auto_field = "django.db.models.BigAutoField"
    role_permissions = {roles.SUPPORT: ("payments.view_payment", "payments.view_paymentoperation")}
