"""Leaving the local pool ends every worker, even one that lets SIGTERM go by."""

from __future__ import annotations

import subprocess
import sys
import time

from trainlab.tuning.local import LocalPool, _Worker

# A worker that takes no notice of SIGTERM: it waits for slots until its stdin ends ...
WAITS_FOR_SLOTS = (
    "import signal, sys; signal.signal(signal.SIGTERM, signal.SIG_IGN); sys.stdin.read()"
)
# ... or not even then.
STUCK = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print(flush=True); time.sleep(600)"  # noqa: E501


def _pool_of(*scripts: str) -> LocalPool:
    pool = LocalPool("s", "journal", workers=len(scripts), tracking_uri="sqlite:///x.db")
    for i, script in enumerate(scripts):
        process = subprocess.Popen(
            [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        pool._all.append(_Worker(i, process))
    time.sleep(0.5)  # the scripts have set their handlers
    return pool


def test_a_worker_waiting_for_a_slot_ends_when_its_stdin_does() -> None:
    pool = _pool_of(WAITS_FOR_SLOTS, WAITS_FOR_SLOTS)
    started = time.monotonic()
    pool.close(grace=30)
    assert time.monotonic() - started < 10
    assert [w.process.returncode for w in pool._all] == [0, 0]


def test_a_worker_that_does_not_end_is_killed_after_the_grace() -> None:
    pool = _pool_of(STUCK)
    started = time.monotonic()
    pool.close(grace=1)
    assert 1 <= time.monotonic() - started < 10
    assert pool._all[0].process.returncode == -9
