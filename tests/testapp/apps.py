from django.apps import AppConfig


class TestAppConfig(AppConfig):
    """A tiny event-sourced 'Tally' used only by the kernel's tests (installed by the test
    settings), so the event store is tested with a real projection table."""

    name = "tests.testapp"
    label = "testapp"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from tests.testapp import projections  # noqa: F401
