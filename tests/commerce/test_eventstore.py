import uuid
from decimal import Decimal

import pytest

from commerce.core.errors import ConcurrencyError, NotFound
from commerce.eventstore import store, upcasting
from commerce.eventstore.aggregate import Repository
from commerce.eventstore.models import Event, OutboxMessage
from commerce.eventstore.projections import Projection, registry
from commerce.eventstore.types import NewEvent
from tests.concurrency import run_concurrently
from tests.testapp.models import TallyView
from tests.testapp.projections import Tally

pytestmark = pytest.mark.django_db

repo = Repository(Tally)


def open_tally(name="t", amounts=()):
    tally = Tally(uuid.uuid4())
    tally.open(name)
    for amount in amounts:
        tally.add(amount)
    repo.save(tally)
    return tally


def test_append_and_load_round_trip_keeps_order_data_and_metadata():
    # given a new aggregate id
    aggregate_id = uuid.uuid4()
    # when two events are appended at expected version 0
    recorded = store.append(
        aggregate_id=aggregate_id, aggregate_type="Tally", expected_version=0,
        events=[NewEvent("TallyOpened", {"name": "a", "price": Decimal("1.50")}),
                NewEvent("TallyIncremented", {"amount": 2})],
        metadata={"actor": "user:test", "correlation_id": "corr-1"},
    )
    # then they load back in version order, with JSON data and the metadata
    loaded = store.load(aggregate_id)
    assert [e.version for e in loaded] == [1, 2]
    assert [e.event_type for e in loaded] == ["TallyOpened", "TallyIncremented"]
    assert loaded[0].data == {"name": "a", "price": "1.50"}
    assert recorded[0].data == loaded[0].data  # projections saw exactly what a replay reads
    assert loaded[0].metadata == {"correlation_id": "corr-1", "causation_id": None,
                                  "actor": "user:test"}
    assert loaded[0].position < loaded[1].position
    assert loaded[0].created_at.tzinfo is not None
    # and the same whether the id is given as a UUID or as its text, alone or with others
    assert store.load(str(aggregate_id)) == loaded
    assert store.load_many([aggregate_id, uuid.uuid4()]) == {aggregate_id: loaded}
    assert store.load(uuid.uuid4()) == []


def test_append_with_stale_expected_version_raises_and_writes_nothing():
    # given a tally at version 2
    tally = open_tally(amounts=[1])
    # when someone appends at the stale version 1
    with pytest.raises(ConcurrencyError) as info:
        store.append(aggregate_id=tally.id, aggregate_type="Tally", expected_version=1,
                     events=[NewEvent("TallyIncremented", {"amount": 5})])
    # then nothing is stored, projected or queued for publishing
    assert info.value.details["expected_version"] == 1
    assert Event.objects.filter(aggregate_id=tally.id).count() == 2
    assert OutboxMessage.objects.filter(payload__aggregate_id=str(tally.id)).count() == 2
    assert TallyView.objects.get(tally_id=tally.id).total == 1


def test_repository_folds_events_and_saves_pending_ones():
    tally = open_tally("apples", amounts=[2, 3])
    loaded = repo.get(tally.id)
    assert (loaded.name, loaded.total, loaded.version) == ("apples", 5, 3)
    loaded.add(4)
    repo.save(loaded)
    assert loaded.version == 4 and loaded.pending_events == []
    assert repo.get(tally.id).total == 9


def test_repository_get_unknown_aggregate_is_not_found():
    with pytest.raises(NotFound):
        repo.get(uuid.uuid4())


def test_inline_projection_is_updated_in_the_same_transaction():
    tally = open_tally("pears", amounts=[7])
    view = TallyView.objects.get(tally_id=tally.id)
    assert (view.name, view.total) == ("pears", 7)


def test_failing_projection_rolls_back_the_append():
    class Exploding(Projection):
        name = "test_exploding"
        aggregate_types = frozenset({"Tally"})

        def on_TallyIncremented(self, event):  # noqa: N802
            raise RuntimeError("projection bug")

    tally = open_tally(amounts=[1])
    registry.register(Exploding())
    try:
        loaded = repo.get(tally.id)
        loaded.add(10)
        with pytest.raises(RuntimeError):
            repo.save(loaded)
    finally:
        registry.unregister("test_exploding")
    # then neither the event, its outbox row nor the other projection's change survive
    assert Event.objects.filter(aggregate_id=tally.id).count() == 2
    assert OutboxMessage.objects.filter(payload__aggregate_id=str(tally.id)).count() == 2
    assert TallyView.objects.get(tally_id=tally.id).total == 1


def test_upcaster_turns_old_event_version_into_current_shape():
    # given a v1 event whose field was later renamed (amount -> qty in v2, qty -> amount in v3)
    aggregate_id = uuid.uuid4()
    store.append(aggregate_id=aggregate_id, aggregate_type="Legacy", expected_version=0,
                 events=[NewEvent("LegacyThing", {"amount": 3}, event_version=1)])

    @upcasting.upcaster("LegacyThing", from_version=1)
    def v1_to_v2(data):
        return {"qty": data["amount"]}

    @upcasting.upcaster("LegacyThing", from_version=2)
    def v2_to_v3(data):
        return {**data, "unit": "each"}

    try:
        # when it is loaded
        (event,) = store.load(aggregate_id)
    finally:
        upcasting.unregister("LegacyThing", from_version=1)
        upcasting.unregister("LegacyThing", from_version=2)
    # then readers see the newest schema while the stored row is untouched
    assert (event.event_version, event.data) == (3, {"qty": 3, "unit": "each"})
    stored = Event.objects.get(aggregate_id=aggregate_id)
    assert (stored.event_version, stored.event_data) == (1, {"amount": 3})


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_writers_at_the_same_version_exactly_one_wins():
    for _round in range(10):
        # given a tally at version 1, and two writers that both read it at version 1
        tally = open_tally()

        def writer(amount, tally_id=tally.id):
            store.append(aggregate_id=tally_id, aggregate_type="Tally", expected_version=1,
                         events=[NewEvent("TallyIncremented", {"amount": amount})])
            return "ok"

        # when they append at the same instant
        outcomes = run_concurrently([lambda: writer(10), lambda: writer(20)])
        # then exactly one append won, the other got ConcurrencyError; nothing lost or doubled
        assert sorted(o if o == "ok" else type(o).__name__ for o in outcomes) == [
            "ConcurrencyError", "ok"]
        events = store.load(tally.id)
        assert [e.version for e in events] == [1, 2]
        assert TallyView.objects.get(tally_id=tally.id).total == events[1].data["amount"]
