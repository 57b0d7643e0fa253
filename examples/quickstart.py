"""trainlab quickstart: train four models on the wine data set that ships with scikit-learn (a
random forest, XGBoost, LightGBM and a PyTorch network, from the pipelines in
examples/pipelines/), track every run in the embedded store (./trainlab.db and
./trainlab-artifacts), choose the best on the validation split, register it as model "wine",
load it back by name and predict, then show where to look next.

    python examples/quickstart.py [--experiment NAME] [--model NAME]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

import trainlab

console = Console()
PIPELINES = sorted((Path(__file__).parent / "pipelines").glob("wine-*.yaml"))


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
    parser.add_argument("--experiment", default="wine-quickstart")
    parser.add_argument("--model", default="wine", help="registered model name")
    args = parser.parse_args()

    started = time.perf_counter()
    console.print(
        f"Tracking to [bold]{trainlab.get_tracking_uri()}[/], experiment [bold]{args.experiment}[/]"
    )
    results = []
    for path in PIPELINES:
        console.rule(f"[bold]{path.name}")
        results.append((path, trainlab.train(path, experiment=args.experiment)))

    # Choose on the validation split; the sealed test split is the estimate to report.
    results.sort(key=lambda r: -r[1].metrics["valid_f1_macro"])
    table = Table(
        title=f"{len(results)} runs in {time.perf_counter() - started:.0f} s, "
        "best on the validation split first"
    )
    for col in ("pipeline", "run id", "valid f1", "valid acc", "test f1", "iters", "time s"):
        table.add_column(col, justify="left" if col in ("pipeline", "run id") else "right")
    for path, res in results:
        m = res.metrics
        table.add_row(
            path.stem,
            res.run_id[:8],
            f"{m['valid_f1_macro']:.3f}",
            f"{m['valid_accuracy']:.3f}",
            f"{m['test_f1_macro']:.3f}",
            f"{m.get('iterations', 0):.0f}",
            f"{m['training_time_s']:.1f}",
        )
    console.print(table)

    best_path, best = results[0]
    version = trainlab.register_model(str(best.model_uri), args.model)
    uri = f"models:/{args.model}/{version}"
    model = trainlab.load_model(uri)
    from sklearn.datasets import load_wine

    wine = load_wine(as_frame=True)
    sample = wine.data.iloc[[0, 70, 140]]
    predicted = [int(p) for p in model.predict(sample)]
    truth = [int(t) for t in wine.target.iloc[[0, 70, 140]]]
    cli = _cli_name()
    console.print(
        f"\nBest: [bold]{best_path.stem}[/] (run {best.run_id}), test f1_macro "
        f"{best.metrics['test_f1_macro']:.3f}. Registered as [bold]{uri}[/]; loaded back by "
        f"that name, it predicts {predicted} for three wines of classes {truth}.\n"
        f"Runs are in {_store_location()}, artifacts in "
        f"{Path('trainlab-artifacts').absolute()}.\n"
        "Where to look next:\n"
        f"  {cli} runs list -e {args.experiment} -o 'metrics.valid_f1_macro DESC' "
        "-c params.model.class\n"
        f"  {cli} runs show {best.run_id}\n"
        f"  {cli} artifacts list {best.run_id}\n"
        f"  {cli} reproduce {best.run_id}\n"
        f"  {cli} models versions {args.model}\n"
        f"  {cli} train examples/pipelines/wine-xgboost.yaml --set model.params.max_depth=2\n"
        f"  {cli} server    # then point any mlflow client at http://127.0.0.1:5000",
        soft_wrap=True,  # commands stay on one line, ready to copy
    )


if __name__ == "__main__":
    main()
