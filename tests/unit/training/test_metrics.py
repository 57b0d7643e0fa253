"""Which named metrics apply to which target."""

from __future__ import annotations

import numpy as np
import pytest

from trainlab.training.metrics import CLASSIFICATION, REGRESSION, for_target


def test_binary_only_metrics_apply_to_two_classes_only() -> None:
    assert "f1" in for_target("classification", 2)
    many = for_target("classification", 3)
    assert "f1" not in many
    assert {"f1_macro", "f1_weighted", "accuracy", "roc_auc"} <= set(many)
    assert for_target("regression", 0) == REGRESSION


def test_every_metric_that_applies_computes_on_a_multiclass_target() -> None:
    y = np.array([0, 1, 2, 2, 1, 0])
    pred = np.array([0, 2, 2, 2, 1, 0])
    proba = np.eye(3)[pred] * 0.8 + 0.2 / 3
    for name, metric in for_target("classification", 3).items():
        assert np.isfinite(metric.fn(y, pred, proba)), name
    assert set(CLASSIFICATION) - set(for_target("classification", 3)) == {"f1"}


def test_predictions_that_are_not_numbers_are_refused_naming_the_split() -> None:
    """A diverged network predicts NaN: scikit-learn's "Input contains NaN." said nothing of
    why, or what to do."""
    from trainlab.exceptions import InvalidState
    from trainlab.training.metrics import evaluate

    y = np.array([1.0, 2.0, 3.0])
    with pytest.raises(InvalidState, match="NaN or infinity for 2 of the 3 rows of the valid"):
        evaluate(["rmse"], y, np.array([1.0, np.nan, np.inf]), None, split="valid")
    proba = np.array([[0.5, 0.5], [np.nan, np.nan], [0.2, 0.8]])
    with pytest.raises(InvalidState, match="1 of the 3 rows of the train split.*train.lr"):
        evaluate(["accuracy"], np.array([0, 1, 1]), np.array([0, 1, 1]), proba, split="train")
    with pytest.raises(InvalidState, match="3 rows of the cv fold 2: its training diverged"):
        evaluate(["rmse"], y, np.array([np.nan, 1.0, 2.0]), None, split="cv fold 2")
    labels = np.array(["a", "b", "a"], dtype=object)  # text labels are not numbers to check
    assert evaluate(["accuracy"], labels, labels, None)["accuracy"] == 1.0
