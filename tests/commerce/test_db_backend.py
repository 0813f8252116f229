"""The database backend (commerce/core/postgres): health checks without a round trip, and
django-prometheus's statement metrics."""

import time

import pytest
from django.db import DatabaseError, connection, connections
from django.db.backends.postgresql.base import DatabaseWrapper as DjangoPostgres
from django_prometheus.db import errors_total, execute_total

pytestmark = pytest.mark.django_db


@pytest.fixture
def spare():
    """A second connection to the test database, idle, outside the test's transaction."""
    wrapper = connections.create_connection("default")
    wrapper.ensure_connection()
    yield wrapper
    wrapper.close()


@pytest.fixture
def round_trips(monkeypatch):
    asked = []
    original = DjangoPostgres.is_usable
    monkeypatch.setattr(DjangoPostgres, "is_usable",
                        lambda self: asked.append(1) or original(self))
    return asked


def test_a_healthy_idle_connection_is_usable_without_a_statement(spare, round_trips):
    assert spare.is_usable() is True
    assert round_trips == []  # no SELECT 1 sent


def test_a_connection_the_server_ended_is_not_usable(spare, round_trips):
    # given the server ends the spare connection's session (as a restart does)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [spare.connection.info.backend_pid])
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and spare.is_usable():
        time.sleep(0.05)
    # then the check, which found the socket readable, asked the server and got no answer
    assert spare.is_usable() is False
    assert round_trips != []


def test_statements_and_their_errors_are_counted():
    executed = execute_total.labels("default", "postgresql")
    failed = errors_total.labels("default", "postgresql", "UndefinedTable")
    before, errors_before = executed._value.get(), failed._value.get()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        with pytest.raises(DatabaseError):
            cursor.execute("SELECT * FROM no_such_table")
    assert executed._value.get() - before == 2
    assert failed._value.get() - errors_before == 1
