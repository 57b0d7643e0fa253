"""Cross-validation folds follow the data's split: a group is never on both sides of a fold, and
a fold split by time is scored only on rows later than those it is fitted on (shuffled folds
scored a model on near-copies of rows it was fitted on: CV accuracy 0.97, test 0.50)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trainlab.exceptions import InvalidParameterValue
from trainlab.training.data import Split
from trainlab.training.runner import _folds, plan
from trainlab.training.spec import parse_spec


def _split(rows: int, groups: int | None = None) -> Split:
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"x": rng.normal(size=rows)})
    y = pd.Series(rng.integers(0, 2, size=rows))
    g = pd.Series(np.arange(rows) % groups) if groups else None
    return Split("train", X, y, None, g)  # type: ignore[arg-type]


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_folds_of_data_split_by_group_keep_each_group_on_one_side(task: str) -> None:
    train = _split(200, groups=20)
    assert train.groups is not None
    folds = _folds("group", task, train, 4, seed=0)
    assert len(folds) == 4
    for fit_rows, score_rows in folds:
        assert not set(train.groups[fit_rows]) & set(train.groups[score_rows])
    assert sorted(np.concatenate([v for _, v in folds])) == list(range(200))


def test_folds_of_data_split_by_time_score_on_later_rows() -> None:
    folds = _folds("time", "regression", _split(100), 3, seed=0)
    assert len(folds) == 3
    for fit_rows, score_rows in folds:
        assert fit_rows.max() < score_rows.min()


def test_shuffled_folds_otherwise() -> None:
    folds = _folds(None, "classification", _split(90), 3, seed=0)
    assert sorted(np.concatenate([v for _, v in folds])) == list(range(90))
    assert np.any(np.diff(np.sort(folds[0][1])) > 1)  # rows from all over: shuffled


def test_fewer_groups_than_folds_is_a_clear_error() -> None:
    with pytest.raises(InvalidParameterValue, match=r"train.cv=5: .*groups"):
        _folds("group", "regression", _split(40, groups=3), 5, seed=0)


def test_too_few_groups_for_the_folds_is_refused_before_a_run(tmp_path: Path) -> None:
    """Three cities split 0.2/0.2 by city leave one in train: two folds cannot be made of it,
    which is known before training and says how many groups went where."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {"x": rng.normal(size=90), "city": ["a", "b", "c"] * 30, "y": rng.normal(size=90)}
    )
    frame.to_csv(tmp_path / "d.csv", index=False)
    spec = parse_spec(
        {
            "data": {
                "source": str(tmp_path / "d.csv"),
                "target": "y",
                "features": ["x"],
                "split": {"test": 0.2, "valid": 0.2, "group": "city"},
            },
            "model": {"flavor": "sklearn", "class": "sklearn.linear_model.Ridge"},
            "train": {"cv": 2},
        }
    )
    with pytest.raises(InvalidParameterValue) as err:
        plan(spec)
    assert "train.cv=2:" in err.value.message
    assert "Groups of 'city' per split: train 1, valid 1, test 1" in err.value.message
