"""The local pool's worker process, apart from the trials it runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

# The worker's main, its trials replaced by one that completes at once, answering into a pipe
# whose reader (the study's process) is gone.
SCRIPT = """
import sys
import optuna
from trainlab.tuning import worker

class Runner:
    def __init__(self, *args):
        pass

    def run(self, slot):
        return optuna.trial.TrialState.COMPLETE

worker.SlotRunner = Runner
worker.main(["--study", "s", "--storage", sys.argv[1]])
"""


def test_a_worker_whose_study_process_died_ends_quietly(tmp_path: Path) -> None:
    """The study's process was killed: its end of the protocol pipe is closed. The worker's
    answer cannot be written; it exits 1 and says nothing (no traceback, not even at the
    interpreter's exit): the trial is stored already."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRAINLAB_")}
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, f"sqlite:///{tmp_path}/s.db"],
        input="0\n1\n", stdout=write_end, stderr=subprocess.PIPE, text=True, env=env, timeout=120,
    )  # fmt: skip
    os.close(write_end)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr == "", proc.stderr
