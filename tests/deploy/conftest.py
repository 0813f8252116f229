import pytest


@pytest.fixture(scope="session")
def exported(django_db_blocker):
    """Names served by the real /metrics endpoint of the app."""
    from django.test import Client

    from tests.deploy.promql import exported_names

    with django_db_blocker.unblock():
        body = Client().get("/metrics").content.decode()
    return exported_names(body)
