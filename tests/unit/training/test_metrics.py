"""Which named metrics apply to which target."""

from __future__ import annotations

import numpy as np

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
