"""Evidence plots of a gate decision (matplotlib, rendered off screen to PNG): confusion
matrices and ROC curves for classifiers, residuals for regressors; candidate and champion side
by side on the same held-out rows."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from trainlab.evaluation.decision import Scored


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # no display: files only
    import matplotlib.pyplot as plt

    return plt


def _models(candidate: Scored, champion: Scored | None) -> list[tuple[str, Scored]]:
    return [("candidate", candidate)] + ([("champion", champion)] if champion else [])


def classification_plots(
    y: Any, candidate: Scored, champion: Scored | None, folder: Path
) -> list[Path]:
    from sklearn.metrics import ConfusionMatrixDisplay, RocCurveDisplay

    plt = _pyplot()
    models = _models(candidate, champion)
    out = []
    fig, axes = plt.subplots(1, len(models), figsize=(5 * len(models), 4.5), squeeze=False)
    for ax, (who, scored) in zip(axes[0], models, strict=True):
        ConfusionMatrixDisplay.from_predictions(y, scored.pred, ax=ax, colorbar=False)
        ax.set_title(f"{who}: confusion matrix")
    fig.tight_layout()
    out.append(_save(fig, folder / "confusion_matrix.png"))
    labels = np.unique(y)
    with_proba = [(who, s) for who, s in models if s.proba is not None]
    if with_proba and len(labels) == 2:
        fig, ax = plt.subplots(figsize=(5.5, 4.5))
        for who, scored in with_proba:
            proba = np.asarray(scored.proba)
            score = proba[:, 1] if proba.ndim == 2 else proba
            RocCurveDisplay.from_predictions(y, score, pos_label=labels[1], ax=ax, name=who)
        ax.set_title("ROC on the held-out split")
        out.append(_save(fig, folder / "roc.png"))
    elif with_proba:
        from sklearn.preprocessing import label_binarize

        fig, ax = plt.subplots(figsize=(5.5, 4.5))
        onehot = label_binarize(y, classes=labels)
        for who, scored in with_proba:  # micro-averaged one-vs-rest
            RocCurveDisplay.from_predictions(
                onehot.ravel(), np.asarray(scored.proba).ravel(), ax=ax, name=f"{who} (micro)"
            )
        ax.set_title("ROC on the held-out split, one-vs-rest")
        out.append(_save(fig, folder / "roc.png"))
    return out


def regression_plots(
    y: Any, candidate: Scored, champion: Scored | None, folder: Path
) -> list[Path]:
    plt = _pyplot()
    models = _models(candidate, champion)
    fig, axes = plt.subplots(1, len(models), figsize=(5 * len(models), 4.5), squeeze=False)
    truth = np.asarray(y, dtype=float)
    for ax, (who, scored) in zip(axes[0], models, strict=True):
        pred = np.asarray(scored.pred, dtype=float)
        ax.scatter(pred, truth - pred, s=8, alpha=0.6)
        ax.axhline(0.0, color="grey", linewidth=1)
        ax.set_xlabel("prediction")
        ax.set_ylabel("residual (truth - prediction)")
        ax.set_title(f"{who}: residuals")
    fig.tight_layout()
    return [_save(fig, folder / "residuals.png")]


def _save(fig: Any, path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
