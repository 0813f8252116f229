import os
import time

from commerce.core import liveness


def test_touch_then_fresh(tmp_path, monkeypatch):
    monkeypatch.setenv("LIVENESS_DIR", str(tmp_path))
    # given a process that never beat: the probe fails
    assert liveness.main(["worker"]) == 1
    # when it beats
    liveness.touch("worker")
    # then the probe passes
    assert liveness.main(["worker", "--max-age", "60"]) == 0


def test_stale_heartbeat_fails(tmp_path, monkeypatch):
    monkeypatch.setenv("LIVENESS_DIR", str(tmp_path))
    liveness.touch("beat")
    old = time.time() - 120
    os.utime(tmp_path / "beat", (old, old))
    assert liveness.main(["beat", "--max-age", "60"]) == 1
    assert 119 <= liveness.age("beat") <= 200


def test_touch_never_raises(monkeypatch):
    monkeypatch.setenv("LIVENESS_DIR", "/proc/no-such-dir")
    liveness.touch("worker")  # a read-only place: ignored, the probe will tell
    assert liveness.age("worker") is None
