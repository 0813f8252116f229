from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "commerce.core"
    label = "core"
    verbose_name = "Core"
