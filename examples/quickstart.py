"""trainlab quickstart: train a few models on the wine data set that ships with scikit-learn,
track every run in the embedded store (./trainlab.db + ./trainlab-artifacts), then show the
best runs and where to look next.

    python examples/quickstart.py [--experiment NAME] [--epochs N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sklearn.datasets import load_wine
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.metrics import accuracy_score, f1_score, log_loss
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

import trainlab

console = Console()


def load_data(seed: int) -> tuple[np.ndarray, ...]:
    x, y = load_wine(return_X_y=True)
    x_train, x_valid, y_train, y_valid = train_test_split(
        x, y, test_size=0.25, random_state=seed, stratify=y
    )
    scaler = StandardScaler().fit(x_train)
    return scaler.transform(x_train), scaler.transform(x_valid), y_train, y_valid


def evaluate(model: object, x: np.ndarray, y: np.ndarray, prefix: str) -> dict[str, float]:
    pred = model.predict(x)  # type: ignore[attr-defined]
    out = {
        f"{prefix}_accuracy": accuracy_score(y, pred),
        f"{prefix}_f1_macro": f1_score(y, pred, average="macro"),
    }
    if hasattr(model, "predict_proba"):
        out[f"{prefix}_logloss"] = log_loss(y, model.predict_proba(x), labels=np.unique(y))
    return out


def train_sgd(
    data: tuple[np.ndarray, ...], alpha: float, epochs: int, seed: int, progress: Progress
) -> object:
    """An iterative model: one point per epoch on the loss and accuracy curves."""
    x_train, x_valid, y_train, y_valid = data
    model = SGDClassifier(loss="log_loss", alpha=alpha, random_state=seed)
    classes = np.unique(y_train)
    task = progress.add_task(f"  sgd alpha={alpha:g}", total=epochs)
    for epoch in range(epochs):
        model.partial_fit(x_train, y_train, classes=classes)
        trainlab.log_metrics(
            {
                **evaluate(model, x_train, y_train, "train"),
                **evaluate(model, x_valid, y_valid, "valid"),
            },
            step=epoch,
        )
        progress.advance(task)
    return model


CANDIDATES = [
    ("logreg", LogisticRegression, {"C": 0.1, "max_iter": 500}),
    ("logreg", LogisticRegression, {"C": 1.0, "max_iter": 500}),
    ("forest", RandomForestClassifier, {"n_estimators": 50, "max_depth": 3}),
    ("forest", RandomForestClassifier, {"n_estimators": 200, "max_depth": 8}),
]


def _store_location() -> str:
    uri = trainlab.get_tracking_uri()
    if uri.startswith("sqlite:///"):
        return str(Path(uri.removeprefix("sqlite:///")).absolute())
    return uri


def _cli_name() -> str:
    """How to call the CLI from here: ``trainlab`` when it is on PATH, else its path."""
    installed = Path(sys.executable).with_name("trainlab")
    if shutil.which("trainlab") == str(installed):
        return "trainlab"
    return os.path.relpath(installed) if installed.is_relative_to(Path.cwd()) else str(installed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--experiment", default="quickstart")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    data = load_data(args.seed)
    started = time.perf_counter()
    console.print(
        f"Tracking to [bold]{trainlab.get_tracking_uri()}[/], experiment [bold]{args.experiment}[/]"
    )
    with trainlab.start_run(
        experiment=args.experiment, run_name="model-sweep", tags={"kind": "sweep"}
    ) as parent:
        with Progress(console=console, transient=True) as progress:
            for alpha in (1e-4, 1e-2):
                params = {"model": "sgd", "alpha": alpha, "epochs": args.epochs, "seed": args.seed}
                with trainlab.start_run(run_name=f"sgd-{alpha:g}", params=params, nested=True):
                    train_sgd(data, alpha, args.epochs, args.seed, progress)
            task = progress.add_task("  batch models", total=len(CANDIDATES))
            for name, cls, hp in CANDIDATES:
                with trainlab.start_run(
                    run_name=name, params={"model": name, **hp, "seed": args.seed}, nested=True
                ):
                    model = cls(random_state=args.seed, **hp).fit(data[0], data[2])
                    trainlab.log_metrics(
                        {
                            **evaluate(model, data[0], data[2], "train"),
                            **evaluate(model, data[1], data[3], "valid"),
                        }
                    )
                progress.advance(task)
        parent_id = parent.run_id

    runs = trainlab.search_runs(
        args.experiment,
        f"tags.mlflow.parentRunId = '{parent_id}'",
        order_by=["metrics.valid_f1_macro DESC"],
        output="list",
    )
    table = Table(
        title=f"{len(runs)} runs of sweep {parent_id[:8]} "
        f"in {time.perf_counter() - started:.1f}s, best first"
    )
    for col in ("run id", "name", "params", "valid_f1_macro", "valid_accuracy"):
        table.add_column(col)
    for r in runs:
        m = r.data.metrics
        params = ", ".join(
            f"{k}={v}" for k, v in sorted(r.data.params.items()) if k not in ("model", "seed")
        )
        table.add_row(
            r.run_id[:8],
            r.info.run_name,
            params,
            f"{m['valid_f1_macro'].value:.3f}",
            f"{m['valid_accuracy'].value:.3f}",
        )
    console.print(table)
    best = runs[0]
    cli = _cli_name()
    console.print(
        f"\nBest: [bold]{best.info.run_name}[/] ({best.run_id}).\n"
        f"Runs are in {_store_location()}.\n"
        "Where to look next:\n"
        f"  {cli} runs list -e {args.experiment} -o 'metrics.valid_f1_macro DESC'\n"
        f"  {cli} runs show {best.run_id}\n"
        f"  {cli} runs list -e {args.experiment} "
        "-f \"params.model = 'sgd' OR metrics.valid_accuracy > 0.98\"\n"
        f"  {cli} server    # then point any mlflow client at http://127.0.0.1:5000",
        soft_wrap=True,  # commands stay on one line, ready to copy
    )


if __name__ == "__main__":
    main()
