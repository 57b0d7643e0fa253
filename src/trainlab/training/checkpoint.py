"""Checkpoints are run artifacts. ``checkpoints/step-00000049/`` holds the framework's own files
(a booster, a ``state_dict``) and ``state.pkl``; ``checkpoints/latest.json``, written last,
names the newest complete checkpoint, so a process killed during an upload leaves the previous
one in force. Before a checkpoint is committed, every metric point logged so far is delivered:
a checkpoint at step S promises that the curves hold every step up to S."""

from __future__ import annotations

import json
import pickle
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trainlab.exceptions import ResourceNotFound

if TYPE_CHECKING:
    from trainlab.client.fluent import ActiveRun

LATEST = "checkpoints/latest.json"
STATE_FILE = "state.pkl"

FileWriter = Callable[[Path], None]


@dataclass(frozen=True)
class Checkpoint:
    """A restored checkpoint: ``step`` is the last step it covers, ``dir`` a local folder with
    the files the adapter wrote, ``state`` the object it passed, ``tracker`` the early-stopping
    state of the training context."""

    step: int
    dir: Path
    state: Any
    tracker: dict[str, Any]


def artifact_dir(step: int) -> str:
    return f"checkpoints/step-{step:08d}"


class RunCheckpoints:
    """Saves checkpoints of one run, keeping the newest ``keep``, and finds its latest."""

    def __init__(self, run: ActiveRun, keep: int = 2) -> None:
        self.run = run
        self.keep = keep
        self.saved = 0

    def save(
        self, step: int, state: Any, files: FileWriter | None, tracker: dict[str, Any]
    ) -> None:
        self.run.flush()  # the curves up to `step` are stored before the checkpoint counts
        path = artifact_dir(step)
        with tempfile.TemporaryDirectory(prefix="trainlab-ckpt-") as tmp:
            folder = Path(tmp)
            if files is not None:
                files(folder)
            with open(folder / STATE_FILE, "wb") as f:
                pickle.dump(state, f, protocol=pickle.HIGHEST_PROTOCOL)
            self.run.log_artifacts(folder, path)
        self.run.log_dict({"step": step, "path": path, "tracker": tracker}, LATEST)
        self.saved += 1
        self._prune()

    def _prune(self) -> None:
        """Delete all but the newest ``keep`` step folders (once the newest is committed)."""
        repo = self.run.artifact_repo()
        steps = sorted(f.path for f in repo.list("checkpoints") if f.is_dir)
        for old in steps[: -self.keep]:
            repo.delete(old)

    def latest(self, dst: Path) -> Checkpoint | None:
        """The newest complete checkpoint, downloaded under ``dst``; None when there is none."""
        try:
            marker = Path(self.run.download_artifacts(LATEST, dst / "marker"))
        except ResourceNotFound:
            return None
        meta = json.loads(marker.read_text(encoding="utf-8"))
        folder = Path(self.run.download_artifacts(meta["path"], dst / "files"))
        with open(folder / STATE_FILE, "rb") as f:
            state = pickle.load(f)  # noqa: S301 - the run's own checkpoint
        return Checkpoint(int(meta["step"]), folder, state, dict(meta.get("tracker") or {}))
