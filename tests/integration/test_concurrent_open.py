"""Processes that open a new SQLite store at the same moment (a launcher starting several
training scripts) all get a working store: the losers of the race to create the schema wait
and go on."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

OPEN_AND_LOG = """
import sys, time
start = float(sys.argv[2])
while time.time() < start:
    time.sleep(0.001)
from trainlab.store.sql.tracking import SqlTrackingStore
store = SqlTrackingStore("sqlite:///" + sys.argv[1], sys.argv[3])
print(store.create_run("0").info.run_id)
"""


def test_processes_creating_one_new_store_at_once_all_succeed(tmp_path: Path) -> None:
    db = tmp_path / "new.db"
    start = time.time() + 3  # after every interpreter has started and imported
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", OPEN_AND_LOG, str(db), str(start), str(tmp_path / "art")],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for _ in range(6)
    ]
    outcomes = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 6, [err[-800:] for _, err in outcomes]
    run_ids = {out.strip() for out, _ in outcomes}
    assert len(run_ids) == 6
