import importlib

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction


class Command(BaseCommand):
    help = (
        "Create demo data, idempotently: each installed app may provide `<app>/demo.py` with "
        "`seed(stdout)`; they run in INSTALLED_APPS order."
    )

    def handle(self, *args, **opts):
        for config in apps.get_app_configs():
            try:
                module = importlib.import_module(f"{config.name}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.demo":
                    raise
                continue
            with transaction.atomic():
                module.seed(self.stdout)
            self.stdout.write(f"seeded {config.label}")
        self.stdout.write(self.style.SUCCESS("demo data ready"))
