import io

import pytest

from commerce.eventstore.models import Event
from inventory import demo
from inventory.models import InventoryItem

pytestmark = pytest.mark.django_db


def test_demo_seed_creates_a_dozen_items_idempotently():
    # when seeding twice
    demo.seed(io.StringIO())
    events = Event.objects.count()
    out = io.StringIO()
    demo.seed(out)
    # then there are twelve items and the second run wrote nothing
    assert InventoryItem.objects.count() == 12
    assert Event.objects.count() == events
    assert "0 items created, 12 already there" in out.getvalue()
