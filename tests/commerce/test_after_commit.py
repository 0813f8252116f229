"""After-commit side effects (wake-ups, metrics, cache clean-up) must never turn a
committed command into an error response: every on_commit callback is registered robust
(Django logs its exception and carries on)."""

import ast
from pathlib import Path

import pytest
from django.db import transaction

ROOT = Path(__file__).resolve().parents[2]
SKIP = {".venv", "tests", "migrations", "bench", "node_modules"}


def _sources():
    for path in ROOT.rglob("*.py"):
        if not SKIP.intersection(path.relative_to(ROOT).parts):
            yield path


def test_every_on_commit_callback_in_the_code_is_robust():
    fragile = []
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            on_commit = isinstance(node, ast.Call) and getattr(node.func, "attr",
                                                                None) == "on_commit"
            if on_commit and not any(k.arg == "robust" and getattr(k.value, "value", None)
                                     is True for k in node.keywords):
                fragile.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert fragile == []


@pytest.mark.django_db(transaction=True)
def test_a_failing_after_commit_callback_does_not_undo_or_fail_the_commit(caplog):
    from commerce.accounts.models import User

    def broken():
        raise ConnectionError("broker down")

    with transaction.atomic():
        User.objects.create_user("after-commit@example.com", "x")
        transaction.on_commit(broken, robust=True)
    assert User.objects.filter(email="after-commit@example.com").exists()
    assert "broker down" in caplog.text
