import uuid

import pytest
from django.core.management import CommandError, call_command

from commerce.eventstore.aggregate import Repository
from tests.testapp.models import TallyView
from tests.testapp.projections import Tally

pytestmark = pytest.mark.django_db
repo = Repository(Tally)


def seed_tallies():
    ids = []
    for name, amounts in (("a", [1, 2]), ("b", [5]), ("c", [])):
        tally = Tally(uuid.uuid4())
        tally.open(name)
        for amount in amounts:
            tally.add(amount)
        repo.save(tally)
        ids.append(tally.id)
    return ids


def test_rebuild_reproduces_the_live_tables_and_verify_reports_zero(capsys):
    ids = seed_tallies()
    before = list(TallyView.objects.order_by("name").values())
    # when the read model is wiped by hand and rebuilt
    TallyView.objects.all().delete()
    call_command("replay_events", "--projection", "test_tallies")
    # then it is identical, and verify finds nothing
    assert list(TallyView.objects.order_by("name").values()) == before
    call_command("replay_events", "--verify", "--aggregate-type", "Tally")
    out = capsys.readouterr().out
    assert "0 differences" in out and "6 events" in out
    assert len(ids) == 3


def test_verify_reports_a_planted_difference_and_changes_nothing(capsys):
    ids = seed_tallies()
    # given a live row that drifted and a row that no event explains
    TallyView.objects.filter(tally_id=ids[0]).update(total=99)
    stray = TallyView.objects.create(tally_id=uuid.uuid4(), name="stray", total=1,
                                     updated_at=TallyView.objects.first().updated_at)
    # when verifying
    with pytest.raises(CommandError) as info:
        call_command("replay_events", "--verify", "--projection", "test_tallies")
    # then both differences are listed, the exit status is non-zero and nothing was fixed
    out = capsys.readouterr().out
    assert info.value.returncode == 1
    assert "2 differences" in str(info.value)
    assert f"test_tally_views[{ids[0]}] differs: total: live=99 rebuilt=3" in out
    assert f"test_tally_views[{stray.tally_id}] in live table but not in rebuild" in out
    assert TallyView.objects.get(tally_id=ids[0]).total == 99
    assert TallyView.objects.filter(tally_id=stray.tally_id).exists()


def test_unknown_projection_filter_is_a_clear_error():
    with pytest.raises(CommandError, match="no registered projection"):
        call_command("replay_events", "--projection", "nope")
