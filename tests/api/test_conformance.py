"""The OpenAPI schema tells the truth: schemathesis generates requests for every operation
(valid and invalid ones) as each kind of caller, and every answer must have a documented
status, content type and body shape. Each example runs in a savepoint rolled back after it,
so examples do not see each other's writes."""

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings

from commerce.accounts import roles
from tests.api.openapi import bearer, call_and_check, in_test_transaction, operations

pytestmark = pytest.mark.django_db

EXAMPLES_PER_OPERATION = 6


def _label(op) -> str:
    return f"{op.method.upper()} {op.path}"


@pytest.fixture
def callers(customer, make_staff):
    return {"anonymous": None, "customer": customer, "support": make_staff(roles.SUPPORT),
            "inventory": make_staff(roles.INVENTORY)}


@pytest.mark.parametrize("operation", operations(), ids=_label)
def test_every_answer_conforms_to_the_schema(operation, callers):
    strategy = operation.as_strategy()

    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
              derandomize=True, suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def check(case):
        for user in callers.values():
            savepoint = transaction.savepoint()
            try:
                call_and_check(case, headers=bearer(user))
            finally:
                transaction.savepoint_rollback(savepoint)

    with in_test_transaction():
        check()
