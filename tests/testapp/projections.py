from django.db.models import F

from commerce.eventstore.aggregate import Aggregate
from commerce.eventstore.projections import Projection, register
from tests.testapp.models import TallyView


class Tally(Aggregate):
    aggregate_type = "Tally"

    def __init__(self, aggregate_id):
        super().__init__(aggregate_id)
        self.name = None
        self.total = 0

    def open(self, name: str) -> None:
        self.record("TallyOpened", {"name": name})

    def add(self, amount: int) -> None:
        self.record("TallyIncremented", {"amount": amount})

    def apply_tally_opened(self, data):
        self.name = data["name"]

    def apply_tally_incremented(self, data):
        self.total += data["amount"]


@register
class TallyProjection(Projection):
    name = "test_tallies"
    aggregate_types = frozenset({"Tally"})
    models = (TallyView,)

    def on_TallyOpened(self, event):  # noqa: N802 - handler named after the event
        TallyView.objects.create(tally_id=event.aggregate_id, name=event.data["name"],
                                 updated_at=event.created_at)

    def on_TallyIncremented(self, event):  # noqa: N802
        TallyView.objects.filter(tally_id=event.aggregate_id).update(
            total=F("total") + event.data["amount"], updated_at=event.created_at
        )
