"""Which process trains a run: recorded on the run (tag ``trainlab.trainer``: host, process id
and the process's start time), so that resuming a run that a live process on this host is still
training is refused rather than storing its steps twice."""

from __future__ import annotations

import os
import shlex
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from trainlab.exceptions import InvalidParameterValue, InvalidState

if TYPE_CHECKING:
    from trainlab.entities import Run

TRAINER_TAG = "trainlab.trainer"
WORKDIR_TAG = "trainlab.workdir"


def _started(pid: int) -> float | None:
    """When process ``pid`` started (seconds since the epoch), None when there is none."""
    import psutil

    try:
        return float(psutil.Process(pid).create_time())
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None


def trainer_tag() -> dict[str, str]:
    """The tags naming this process as the run's trainer, and the folder it trains in (where
    a relative ``data.source`` is found)."""
    started = _started(os.getpid())
    return {
        TRAINER_TAG: f"{socket.gethostname()} {os.getpid()} {started or 0:.2f}",
        WORKDIR_TAG: os.getcwd(),
    }


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


@contextmanager
def in_training_folder(run: Run, source: str) -> Iterator[None]:
    """Loading ``source``, the data of ``run``: a relative path that is missing from this
    folder is named with the folder the run trained in, where a command that loads it again
    (resume, reproduce, the gate) is run."""
    try:
        yield
    except InvalidParameterValue as exc:
        from trainlab.training.data import local_path

        where = run.data.tags.get(WORKDIR_TAG)
        path = None if source.startswith("sklearn:") else Path(local_path(source))
        if not where or path is None or path.is_absolute() or path.exists():
            raise  # not a relative path that is missing here
        if Path(where) == Path.cwd():
            raise
        raise InvalidParameterValue(
            f"{exc.message} Run {run.info.run_id} was trained in {where}: run this command "
            f"there (cd {shlex.quote(where)})."
        ) from None
