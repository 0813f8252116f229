"""The one place the suite wires schemathesis to the app: the OpenAPI schema served at
/api/schema/ loaded against the WSGI application (in-process, in the test's database
transaction), the checks that compare answers with the schema, and callers by role.

Used by the conformance tests (tests/api/test_conformance.py) and meant for any other
schema-driven test (e.g. a fuzz for hostile input), so there is one copy of this wiring."""

import contextlib
import functools

import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from rest_framework_simplejwt.tokens import RefreshToken
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

SCHEMA_PATH = "/api/schema/?format=json"
# Every answer: a documented status, the documented content type, the documented body.
CONFORMANCE_CHECKS = [status_code_conformance, content_type_conformance,
                      response_schema_conformance]


@functools.cache
def api_schema():
    """The served schema, loaded once per test session (it needs no database)."""
    from commerce.wsgi import application

    with in_test_transaction():
        return schemathesis.openapi.from_wsgi(SCHEMA_PATH, application)


def operations() -> list:
    return [result.ok() for result in api_schema().get_all_operations()]


@contextlib.contextmanager
def in_test_transaction():
    """Keep the WSGI app on the test's connection: like Django's test client, stop the
    request signals from closing it (which would end the test's transaction)."""
    signals = [s for s in (request_started, request_finished)
               if s.disconnect(close_old_connections)]  # only those still connected
    try:
        yield
    finally:
        for signal in signals:
            signal.connect(close_old_connections)


def bearer(user) -> dict[str, str]:
    """Headers that authenticate as `user` (no headers for None: anonymous)."""
    if user is None:
        return {}
    return {"Authorization": f"Bearer {RefreshToken.for_user(user).access_token}"}


def call_and_check(case, *, headers: dict[str, str] | None = None):
    """Send `case` to the app and assert the answer conforms to the schema."""
    response = case.call(headers=headers or {})
    case.validate_response(response, checks=CONFORMANCE_CHECKS, headers=headers or {})
    return response


class Walk:
    """Calls operations with real data and checks each answer against the schema;
    remembers which operations answered a success status, so a test can assert that every
    operation was seen succeeding."""

    def __init__(self):
        self.succeeded: set[tuple[str, str]] = set()

    def __call__(self, method: str, template: str, expect: int, *, user=None,
                 path: dict | None = None, body=None, query: dict | None = None,
                 headers: dict | None = None):
        operation = api_schema()[template][method.upper()]
        kwargs = {} if body is None else {"body": body}
        case = operation.Case(path_parameters=path or {}, query=query or {}, **kwargs)
        response = call_and_check(case, headers={**bearer(user), **(headers or {})})
        assert response.status_code == expect, (method, template, response.status_code,
                                                response.text[:500])
        if 200 <= expect < 300:
            self.succeeded.add((method.upper(), template))
        return response
