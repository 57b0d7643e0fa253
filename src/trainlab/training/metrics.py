"""Named evaluation metrics (scikit-learn's implementations): ``accuracy``, ``f1_macro``,
``roc_auc``, ``rmse``, ... Each takes the true labels, the predictions and, where it needs
them, the class probabilities."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Metric:
    name: str
    fn: Callable[[Any, Any, Any], float]  # (y_true, y_pred, proba) -> value
    greater_is_better: bool
    needs_proba: bool = False
    binary_only: bool = False  # for a target of two classes (f1 of the positive class)


def _sk(name: str, **kwargs: Any) -> Callable[[Any, Any, Any], float]:
    def fn(y: Any, pred: Any, proba: Any) -> float:
        from sklearn import metrics

        return float(getattr(metrics, name)(y, pred, **kwargs))

    return fn


def _roc_auc(y: Any, pred: Any, proba: Any) -> float:
    from sklearn.metrics import roc_auc_score

    p = np.asarray(proba)
    if p.ndim == 2 and p.shape[1] == 2:
        p = p[:, 1]
    return float(roc_auc_score(y, p, multi_class="ovr") if p.ndim == 2 else roc_auc_score(y, p))


def _logloss(y: Any, pred: Any, proba: Any) -> float:
    from sklearn.metrics import log_loss

    p = np.asarray(proba)
    labels = np.arange(p.shape[1]) if p.ndim == 2 else None
    return float(log_loss(y, p, labels=labels))


def _rmse(y: Any, pred: Any, proba: Any) -> float:
    return float(np.sqrt(np.mean((np.asarray(y, float) - np.asarray(pred, float)) ** 2)))


CLASSIFICATION: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("accuracy", _sk("accuracy_score"), True),
        Metric("balanced_accuracy", _sk("balanced_accuracy_score"), True),
        Metric("f1", _sk("f1_score", zero_division=0), True, binary_only=True),
        Metric("f1_macro", _sk("f1_score", average="macro", zero_division=0), True),
        Metric("f1_weighted", _sk("f1_score", average="weighted", zero_division=0), True),
        Metric("precision_macro", _sk("precision_score", average="macro", zero_division=0), True),
        Metric("recall_macro", _sk("recall_score", average="macro", zero_division=0), True),
        Metric("roc_auc", _roc_auc, True, needs_proba=True),
        Metric("logloss", _logloss, False, needs_proba=True),
    )
}
REGRESSION: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("rmse", _rmse, False),
        Metric("mae", _sk("mean_absolute_error"), False),
        Metric("r2", _sk("r2_score"), True),
        Metric("mape", _sk("mean_absolute_percentage_error"), False),
        Metric("median_ae", _sk("median_absolute_error"), False),
    )
}
DEFAULTS = {
    "classification": ["accuracy", "f1_macro", "roc_auc"],
    "regression": ["rmse", "mae", "r2"],
}


def for_target(task: str, classes: int) -> dict[str, Metric]:
    """The metrics that apply to a target: ``REGRESSION``'s, or ``CLASSIFICATION``'s less the
    binary-only ones for more than two ``classes``."""
    if task != "classification":
        return REGRESSION
    return {n: m for n, m in CLASSIFICATION.items() if classes <= 2 or not m.binary_only}


def lookup(name: str) -> Metric:
    return CLASSIFICATION.get(name) or REGRESSION[name]


def evaluate(names: list[str], y: Any, pred: Any, proba: Any) -> dict[str, float]:
    """The metrics ``names``; a probability metric is skipped when the model gives none."""
    out = {}
    for name in names:
        metric = lookup(name)
        if metric.needs_proba and proba is None:
            continue
        out[name] = metric.fn(y, pred, proba)
    return out
