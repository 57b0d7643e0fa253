"""Named evaluation metrics (scikit-learn's implementations): ``accuracy``, ``f1_macro``,
``roc_auc``, ``rmse``, ... Each takes the true labels, the predictions and, where it needs
them, the class probabilities, whose columns stand for the target's classes in sorted order (as
every flavor gives them: scikit-learn's ``classes_``, LightGBM's, 0..K-1 for XGBoost and
networks)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Metric:
    name: str
    fn: Callable[..., float]  # (y_true, y_pred, proba, classes=None) -> value
    greater_is_better: bool
    needs_proba: bool = False
    binary_only: bool = False  # for a target of two classes (f1 of the positive class)


def _sk(name: str, **kwargs: Any) -> Callable[..., float]:
    def fn(y: Any, pred: Any, proba: Any, classes: Any = None) -> float:
        from sklearn import metrics

        return float(getattr(metrics, name)(y, pred, **kwargs))

    return fn


def _labels(y: Any, p: Any, classes: Any) -> Any:
    """The class each column of ``p`` stands for: ``classes`` (the model's, sorted) when there
    is one per column, else the labels in ``y`` when every column's is there, else 0..K-1 (a
    network's, or XGBoost's)."""
    if classes is not None and len(classes) == p.shape[1]:
        return np.asarray(classes)
    seen = np.unique(np.asarray(y))
    return seen if len(seen) == p.shape[1] else np.arange(p.shape[1])


def _roc_auc(y: Any, pred: Any, proba: Any, classes: Any = None) -> float:
    from sklearn.metrics import roc_auc_score

    p = np.asarray(proba)
    if p.ndim == 2 and p.shape[1] == 2:
        labels = _labels(y, p, classes)
        return float(roc_auc_score(np.asarray(y) == labels[1], p[:, 1]))
    if p.ndim == 2:
        return float(roc_auc_score(y, p, multi_class="ovr", labels=_labels(y, p, classes)))
    return float(roc_auc_score(y, p))


def _logloss(y: Any, pred: Any, proba: Any, classes: Any = None) -> float:
    from sklearn.metrics import log_loss

    p = np.asarray(proba)
    labels = _labels(y, p, classes) if p.ndim == 2 else None
    return float(log_loss(y, p, labels=labels))


def _f1(y: Any, pred: Any, proba: Any, classes: Any = None) -> float:
    """F1 of the positive class: the greater of the two (1 of 0/1, "yes" of "no"/"yes"), of
    ``classes`` when given (a resample may hold one class only)."""
    from sklearn.metrics import f1_score

    labels = classes if classes is not None else np.unique(np.concatenate([y, pred]))
    return float(f1_score(y, pred, pos_label=labels[-1], zero_division=0))


def _rmse(y: Any, pred: Any, proba: Any, classes: Any = None) -> float:
    return float(np.sqrt(np.mean((np.asarray(y, float) - np.asarray(pred, float)) ** 2)))


CLASSIFICATION: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("accuracy", _sk("accuracy_score"), True),
        Metric("balanced_accuracy", _sk("balanced_accuracy_score"), True),
        Metric("f1", _f1, True, binary_only=True),
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


def _check_finite(pred: Any, proba: Any, split: str) -> None:
    from trainlab.exceptions import InvalidState

    for values in (pred, proba):
        array = None if values is None else np.asarray(values)
        if array is None or array.dtype.kind not in "fc":
            continue  # labels, or no probabilities
        bad = ~np.isfinite(array)
        if bad.any():
            rows = int(bad.reshape(len(array), -1).any(axis=1).sum())
            where = split if split.startswith("cv fold") else f"{split or 'scored'} split"
            raise InvalidState(
                f"The model predicts NaN or infinity for {rows} of the {len(array)} rows of the "
                f"{where}: its training diverged (a network whose loss went "
                "to NaN, often), or the data holds extreme values. Lower the learning rate "
                "(train.lr for a network), scale the features, and check the data."
            )


def lookup(name: str) -> Metric:
    return CLASSIFICATION.get(name) or REGRESSION[name]


def evaluate(
    names: list[str], y: Any, pred: Any, proba: Any, classes: Any = None, split: str = ""
) -> dict[str, float]:
    """The metrics ``names``; a probability metric is skipped when the model gives none.
    ``classes``: the model's classes, sorted (what its probabilities' columns stand for; the
    rows scored may lack some). Predictions that are not finite numbers (a diverged training)
    are refused, naming ``split`` (``valid``, or ``cv fold 3``)."""
    _check_finite(pred, proba, split)
    out = {}
    for name in names:
        metric = lookup(name)
        if metric.needs_proba and proba is None:
            continue
        out[name] = metric.fn(y, pred, proba, classes)
    return out
