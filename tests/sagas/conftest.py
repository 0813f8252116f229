"""A toy saga whose steps are driven by a script, to test the engine on its own."""

import pytest

from commerce.core.errors import Conflict
from sagas import definitions
from sagas.definitions import AWAIT_APPROVAL, SagaDefinition, Step
from sagas.errors import TransientError


class Script:
    """What each step does: `faults[name]` is a list of outcomes consumed per call
    ("transient", "refuse", "approval"); an empty list means succeed."""

    def __init__(self):
        self.calls: list[str] = []
        self.faults: dict[str, list[str]] = {}
        self.always: dict[str, str] = {}

    def fn(self, name):
        def run(ctx):
            self.calls.append(name)
            outcome = self.always.get(name) or (self.faults.get(name) or [None]).pop(0) \
                if (self.always.get(name) or self.faults.get(name)) else None
            if outcome == "transient":
                raise TransientError(f"{name} timed out")
            if outcome == "refuse":
                raise Conflict(f"{name} refused")
            if outcome == "approval" and not ctx.get("approval"):
                return AWAIT_APPROVAL
            return {name: "done"}
        return run


@pytest.fixture
def script():
    s = Script()
    definitions.register(SagaDefinition(saga_type="toy", steps=(
        Step("a", s.fn("a"), s.fn("undo_a")),
        Step("b", s.fn("b"), None),
        Step("c", s.fn("c"), s.fn("undo_c")),
        Step("d", s.fn("d"), s.fn("undo_d")),
    )))
    yield s
    definitions._registry.pop("toy", None)
