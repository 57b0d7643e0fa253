"""What an adapter (or your training function) gets to train with: the params, the train and
valid splits, the seed, ``report(step, values)`` for its per-iteration/epoch curve, which logs
the curve, drives early stopping and advances the progress bar, and ``checkpoint(step, ...)``
with ``restored`` to continue a killed run where its last checkpoint left off."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from trainlab.exceptions import InvalidParameterValue
from trainlab.training.checkpoint import Checkpoint, FileWriter
from trainlab.training.data import Split
from trainlab.training.spec import EarlyStopping

log = logging.getLogger("trainlab")

SaveCheckpoint = Callable[[int, Any, FileWriter | None, dict[str, Any]], None]


LogMetrics = Callable[[dict[str, float], int], None]
# (step, values, log_metrics): a hook on each curve point; it may log more and stop training.
OnReport = Callable[[int, dict[str, float], LogMetrics], None]


class StopTraining(Exception):  # noqa: N818 - a signal, not an error
    """Raised by an ``on_report`` hook to end training at once (a pruned tuning trial): the run
    ends KILLED with tag ``trainlab.stopped`` = ``reason``, and the exception propagates."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class FitContext:
    params: dict[str, Any]
    train: Split
    valid: Split | None
    task: str
    seed: int
    log_metrics: LogMetrics
    early_stopping: EarlyStopping | None = None
    on_step: Callable[[int], None] = lambda step: None
    epochs: int = 20
    batch_size: int = 64
    lr: float = 1e-3
    on_report: OnReport | None = None  # sees every point
    checkpoint_every: int | None = None
    total_steps: int | None = None  # when known; the last step needs no checkpoint
    save_checkpoint: SaveCheckpoint | None = None
    restored: Checkpoint | None = None
    # On resume: the last step already stored per curve; those points are not logged again.
    logged_through: dict[str, int] = field(default_factory=dict)
    should_stop: bool = False
    best_step: int | None = None
    best_value: float | None = None
    steps: int = 0
    last: dict[str, float] = field(default_factory=dict)  # each curve's latest value
    bad_steps: int = 0  # steps since the best one
    # Your own training function's checkpoints: say once that they are off, not stay silent.
    warn_checkpoints_off: bool = False

    def __post_init__(self) -> None:
        if self.restored is not None:
            t = self.restored.tracker
            self.best_step, self.best_value = t.get("best_step"), t.get("best_value")
            self.bad_steps = int(t.get("bad_steps", 0))
            self.last = dict(t.get("last", {}))
            self.steps = self.restored.step + 1

    @property
    def start_step(self) -> int:
        """The first step to train: 0, or the one after the restored checkpoint."""
        return self.restored.step + 1 if self.restored is not None else 0

    def report(self, step: int, values: dict[str, float]) -> bool:
        """Log one point of the curve; True when early stopping says stop."""
        clean = {k: float(v) for k, v in values.items()}
        fresh = {k: v for k, v in clean.items() if step > self.logged_through.get(k, -1)}
        if fresh:
            self.log_metrics(fresh, step)
        self.last.update(clean)
        self.steps = step + 1
        self.on_step(step)
        if self.on_report is not None:
            self.on_report(step, clean, self.log_metrics)  # may raise StopTraining
        es = self.early_stopping
        if es is None:
            return False
        if es.metric not in clean:
            raise InvalidParameterValue(
                f"train.early_stopping.metric {es.metric!r} is not a curve this model reports; "
                f"it reports {sorted(clean)}."
            )
        value = clean[es.metric]
        if math.isnan(value):
            improved = False
        elif self.best_value is None:
            improved = True
        elif es.minimize:
            improved = value < self.best_value - es.min_delta
        else:
            improved = value > self.best_value + es.min_delta
        if improved:
            self.best_value, self.best_step, self.bad_steps = value, step, 0
        else:
            self.bad_steps += 1
            if self.bad_steps >= es.patience:
                self.should_stop = True
        return self.should_stop

    def checkpoint(self, step: int, state: Any = None, files: FileWriter | None = None) -> bool:
        """Save a checkpoint after ``step`` when ``train.checkpoint_every`` says so: ``state``
        (any picklable object) and the files ``files(folder)`` writes. It comes back as
        ``restored`` (``.step``, ``.state``, ``.dir``) when the run is resumed. True if saved."""
        every = self.checkpoint_every
        if not every and self.warn_checkpoints_off:
            self.warn_checkpoints_off = False
            log.warning(
                "trainlab: ctx.checkpoint() saves nothing while train.checkpoint_every is not "
                "set, and a resumed run starts again from step 0; set it in the pipeline's "
                "train section, or pass overrides=['train.checkpoint_every=10']."
            )
        if not every or self.save_checkpoint is None or (step + 1) % every:
            return False
        if self.total_steps is not None and step + 1 >= self.total_steps:
            return False
        tracker = {
            "best_step": self.best_step,
            "best_value": self.best_value,
            "bad_steps": self.bad_steps,
            "last": self.last,
        }
        self.save_checkpoint(step, state, files, tracker)
        return True
