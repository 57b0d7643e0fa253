"""Which process trains a run: recorded on the run (tag ``trainlab.trainer``: host, process id
and the process's start time), so that resuming a run that a live process on this host is still
training is refused rather than storing its steps twice."""

from __future__ import annotations

import os
import socket
from typing import TYPE_CHECKING

from trainlab.exceptions import InvalidState

if TYPE_CHECKING:
    from trainlab.entities import Run

TRAINER_TAG = "trainlab.trainer"


def _started(pid: int) -> float | None:
    """When process ``pid`` started (seconds since the epoch), None when there is none."""
    import psutil

    try:
        return float(psutil.Process(pid).create_time())
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None


def trainer_tag() -> dict[str, str]:
    """The tag naming this process as the run's trainer."""
    started = _started(os.getpid())
    return {TRAINER_TAG: f"{socket.gethostname()} {os.getpid()} {started or 0:.2f}"}


def check_not_training(
    run: Run, clash: str = "resuming it now would store its steps twice"
) -> None:
    """Refuse a RUNNING run whose trainer is a live process of this host. A trainer on another
    host cannot be checked from here: resuming after its machine died must stay possible."""
    if run.info.status != "RUNNING":
        return
    host, pid, started = (run.data.tags.get(TRAINER_TAG, "").split() + ["", "", ""])[:3]
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return
    now = _started(int(pid))
    try:
        same = now is not None and abs(now - float(started)) < 0.05  # not a reused process id
    except ValueError:
        return
    if same:
        raise InvalidState(
            f"Run {run.info.run_id} is still being trained by process {pid} on this host: "
            f"{clash}. Stop that process (kill {pid}) or let it finish first."
        )
