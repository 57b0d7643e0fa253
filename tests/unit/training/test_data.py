"""Data preparation: splits (random, stratified, group, time), fingerprints, overlaps."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trainlab.exceptions import InvalidParameterValue
from trainlab.training.data import fingerprint, prepare
from trainlab.training.spec import DataSpec


def frame(n: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "patient": np.arange(n) % 20,
            "day": rng.permutation(n),
            "y": np.arange(n) % 4,
        }
    )


def write(tmp_path: Path, df: pd.DataFrame) -> str:
    path = tmp_path / "d.csv"
    df.to_csv(path, index=False)
    return str(path)


def spec(source: str, **split: object) -> DataSpec:
    return DataSpec.model_validate({"source": source, "target": "y", "split": split})


def test_random_stratified_split_sizes_and_balance(tmp_path: Path) -> None:
    data = prepare(spec(write(tmp_path, frame()), test=0.2, valid=0.25, stratify=True, seed=3))
    rows = {name: s.fingerprint.rows for name, s in data.splits.items()}
    assert rows == {"train": 110, "valid": 50, "test": 40}
    assert data.task == "classification"
    for s in data.splits.values():  # four equal classes stay (within one) equal everywhere
        counts = s.y.value_counts()
        assert len(counts) == 4 and counts.max() - counts.min() <= 1
    assert data.features == ["x", "patient", "day"]


def test_group_split_keeps_each_group_in_one_split(tmp_path: Path) -> None:
    data = prepare(spec(write(tmp_path, frame()), test=0.2, valid=0.2, group="patient"))
    assert "patient" not in data.features
    source = frame()
    groups = {}
    for name, s in data.splits.items():
        merged = s.X.merge(source, on=["x", "day"])
        groups[name] = set(merged["patient"])
    assert not groups["train"] & groups["test"] and not groups["valid"] & groups["test"]
    assert not groups["train"] & groups["valid"]


def test_time_split_puts_the_latest_rows_last(tmp_path: Path) -> None:
    data = prepare(spec(write(tmp_path, frame()), test=0.1, valid=0.1, time="day"))
    source = frame().set_index("x")
    days = {n: source.loc[s.X["x"], "day"] for n, s in data.splits.items()}
    assert days["train"].max() < days["valid"].min() <= days["valid"].max() < days["test"].min()


def test_fingerprint_tracks_content_and_schema_not_the_index() -> None:
    df = frame(50)
    base = fingerprint(df)
    assert fingerprint(df.set_axis(range(100, 150))).digest == base.digest
    changed = df.copy()
    changed.loc[3, "x"] += 1e-9
    assert fingerprint(changed).digest != base.digest
    assert fingerprint(df.astype({"patient": "float64"})).digest != base.digest
    assert base.rows == 50 and base.schema["x"] == "float64"


def test_overlapping_rows_are_counted(tmp_path: Path) -> None:
    df = frame(100)
    data = prepare(spec(write(tmp_path, pd.concat([df, df.head(40)])), test=0.3, seed=1))
    assert sum(data.overlaps.values()) > 0
    clean = prepare(spec(write(tmp_path, df), test=0.3, seed=1))
    assert set(clean.overlaps.values()) == {0}


@pytest.mark.parametrize(
    ("split", "message"),
    [
        ({"group": "ward"}, "data.split.group 'ward' is not a column"),
        ({"test": 0.5, "valid": 0.49}, "10 rows leave 0 to train on"),
        ({"stratify": True, "group": "patient"}, "choose one of stratify, group and time"),
    ],
)
def test_split_errors_name_the_key(tmp_path: Path, split: dict[str, object], message: str) -> None:
    with pytest.raises((InvalidParameterValue, ValueError), match=message):
        prepare(spec(write(tmp_path, frame(10)), **split))
