"""A study takes trials of the pipeline (or objective) it was made from: what counts as the same."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from trainlab.training.spec import parse_spec
from trainlab.tuning.study import ATTR_CONFIG, _differences

CONFIG: dict[str, Any] = {
    "experiment": "e",
    "data": {"source": "sklearn:wine", "target": "target"},
    "model": {"flavor": "sklearn", "class": "sklearn.ensemble.RandomForestClassifier",
              "params": {"n_estimators": 20}},
    "tune": {"metric": "valid_accuracy", "trials": 4,
             "space": {"max_depth": {"type": "int", "low": 2, "high": 6}}},
}  # fmt: skip


def _study(config: dict[str, Any]) -> Any:
    return SimpleNamespace(user_attrs={ATTR_CONFIG: config}, study_name="s")


def test_defaults_a_study_did_not_record_count_as_given() -> None:
    """A pipeline recorded with only the keys it gave (or by a version that had fewer) is the
    same pipeline as this version's reading of it, defaults filled in."""
    full = parse_spec(CONFIG).to_config()
    assert _differences(_study(CONFIG), {ATTR_CONFIG: full}) == []


def test_what_a_session_may_change_is_no_difference() -> None:
    changed = {
        **CONFIG,
        "experiment": "other",
        "metrics": ["accuracy"],
        "train": {"keep_checkpoints": 5},
        "tune": {**CONFIG["tune"], "trials": 40},
    }
    assert _differences(_study(CONFIG), {ATTR_CONFIG: changed}) == []
    other = {**CONFIG, "model": {**CONFIG["model"], "params": {"n_estimators": 50}}}
    assert _differences(_study(CONFIG), {ATTR_CONFIG: other}) == [
        "model.params.n_estimators: 20 -> 50"
    ]
