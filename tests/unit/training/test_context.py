"""FitContext: early stopping, the points a resumed run does not log again, checkpoint cadence."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from trainlab.exceptions import InvalidParameterValue
from trainlab.training.checkpoint import Checkpoint
from trainlab.training.context import FitContext
from trainlab.training.data import Fingerprint, Split
from trainlab.training.spec import EarlyStopping

SPLIT = Split("train", pd.DataFrame({"x": [1.0]}), pd.Series([0]), Fingerprint("d", 1, {}))


def context(**kwargs: Any) -> tuple[FitContext, list[tuple[int, dict[str, float]]]]:
    logged: list[tuple[int, dict[str, float]]] = []
    ctx = FitContext(
        params={},
        train=SPLIT,
        valid=SPLIT,
        task="classification",
        seed=0,
        log_metrics=lambda values, step: logged.append((step, values)),
        **kwargs,
    )
    return ctx, logged


@pytest.mark.parametrize(
    ("metric", "mode", "values", "stop_at", "best"),
    [
        ("valid_loss", None, [5, 4, 4.5, 4.2, 3.9, 4, 4, 4], 7, 4),  # loss: min by name
        ("valid_auc", None, [0.5, 0.7, 0.6, 0.65, 0.66], 4, 1),  # other names: max
        ("valid_score", "min", [3, 2, 2, 2, 2], 4, 1),  # equal is no improvement
        ("valid_loss", None, [1, float("nan"), float("nan"), float("nan")], 3, 0),
    ],
)
def test_early_stopping(
    metric: str, mode: str | None, values: list[float], stop_at: int, best: int
) -> None:
    es = EarlyStopping(metric=metric, patience=3, mode=mode)  # type: ignore[arg-type]
    ctx, _ = context(early_stopping=es)
    stopped = [ctx.report(step, {metric: v}) for step, v in enumerate(values)]
    assert stopped.index(True) == stop_at
    assert ctx.best_step == best and ctx.should_stop


def test_min_delta_and_an_unknown_metric() -> None:
    ctx, _ = context(early_stopping=EarlyStopping(metric="valid_loss", patience=2, min_delta=0.1))
    assert not ctx.report(0, {"valid_loss": 1.0})
    assert not ctx.report(1, {"valid_loss": 0.95})  # better, but by less than min_delta
    assert ctx.report(2, {"valid_loss": 0.92})
    ctx, _ = context(early_stopping=EarlyStopping(metric="valid_logloss", patience=2))
    with pytest.raises(InvalidParameterValue, match="reports \\['valid_loss'\\]"):
        ctx.report(0, {"valid_loss": 1.0})


def test_a_resumed_context_skips_stored_points_and_keeps_its_tracker() -> None:
    restored = Checkpoint(
        step=4,
        dir=Path("."),
        state=None,
        tracker={"best_step": 3, "best_value": 0.5, "bad_steps": 1, "last": {"valid_loss": 0.6}},
    )
    es = EarlyStopping(metric="valid_loss", patience=3)
    ctx, logged = context(
        early_stopping=es, restored=restored, logged_through={"valid_loss": 6, "train_loss": 5}
    )
    assert ctx.start_step == 5 and ctx.steps == 5 and ctx.last == {"valid_loss": 0.6}
    for step in range(5, 8):
        ctx.report(step, {"valid_loss": 0.7, "train_loss": 0.1})
    # step 5: both stored already; step 6: valid_loss only; step 7: neither
    assert logged == [(6, {"train_loss": 0.1}), (7, {"valid_loss": 0.7, "train_loss": 0.1})]
    assert ctx.should_stop  # bad steps: 1 restored + 2 new = patience 3


def test_checkpoint_cadence() -> None:
    saved: list[int] = []
    ctx, _ = context(
        checkpoint_every=3,
        total_steps=9,
        save_checkpoint=lambda step, state, files, tracker: saved.append(step),
    )
    done = [ctx.checkpoint(step) for step in range(9)]
    assert saved == [2, 5]  # after step 8 training is over: no checkpoint needed
    assert done.count(True) == 2
    ctx, _ = context(save_checkpoint=lambda *a: saved.append(-1))
    assert not ctx.checkpoint(2) and saved == [2, 5]  # checkpoint_every unset
