"""trainlab quickstart: train four models on the wine data set that ships with scikit-learn (a
random forest, XGBoost, LightGBM and a PyTorch network, from the pipelines in
examples/pipelines/), tune the XGBoost one with Optuna (two worker processes), track every run
in the embedded store (./trainlab.db and ./trainlab-artifacts), register the best on the
validation split as model "wine", put it through the promotion gate (examples/policy.yaml) to
become `champion`, load the champion back by name and predict, then show where to look next.

    python examples/quickstart.py [--experiment NAME] [--model NAME] [--trials N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

import trainlab

console = Console()
HERE = Path(__file__).parent
PIPELINES = sorted((HERE / "pipelines").glob("wine-*.yaml"))
TUNED = HERE / "pipelines" / "wine-xgboost.yaml"
POLICY = HERE / "policy.yaml"


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
    parser.add_argument("--trials", type=int, default=12, help="tuning trials")
    args = parser.parse_args()

    started = time.perf_counter()
    console.print(
        f"Tracking to [bold]{trainlab.get_tracking_uri()}[/], experiment [bold]{args.experiment}[/]"
    )
    results: list[tuple[str, Any]] = []
    for path in PIPELINES:
        console.rule(f"[bold]{path.name}")
        results.append((path.stem, trainlab.train(path, experiment=args.experiment)))

    console.rule(f"[bold]tuning {TUNED.name}")
    study = trainlab.tune(
        TUNED,
        experiment=args.experiment,
        trials=args.trials,
        workers=2,
        study=f"{args.experiment}-xgboost-{time.strftime('%Y%m%d-%H%M%S')}",
    )
    tuned_run = study.summary.best[0].run_id if study.summary.best else None
    if tuned_run is not None:
        run = trainlab.get_run(tuned_run)
        metrics = {k: m.value for k, m in run.data.metrics.items()}
        results.append(("xgboost, tuned", _Tuned(tuned_run, metrics)))

    # Choose on the validation split; the sealed test split is the estimate to report.
    results.sort(key=lambda r: -r[1].metrics["valid_f1_macro"])
    table = Table(
        title=f"{len(results)} models in {time.perf_counter() - started:.0f} s, "
        "best on the validation split first"
    )
    for col in ("pipeline", "run id", "valid f1", "valid acc", "test f1", "iters", "time s"):
        table.add_column(col, justify="left" if col in ("pipeline", "run id") else "right")
    for label, res in results:
        m = res.metrics
        table.add_row(
            label,
            res.run_id[:8],
            f"{m['valid_f1_macro']:.3f}",
            f"{m['valid_accuracy']:.3f}",
            f"{m['test_f1_macro']:.3f}",
            f"{m.get('iterations', 0):.0f}",
            f"{m['training_time_s']:.1f}",
        )
    console.print(table)

    best_label, best = results[0]
    version = trainlab.register_model(f"runs:/{best.run_id}/model", args.model)
    gate = trainlab.promote(args.model, version, "champion", POLICY)
    verdict = "[green]PASS[/]" if gate.moved else "[red]FAIL[/]"
    checks = "; ".join(
        f"{c.name} {'skipped' if c.skipped else 'pass' if c.passed else 'FAIL'}"
        for c in gate.decision.checks
    )
    against = f"v{gate.champion}" if gate.champion is not None else "no champion yet"
    if not gate.moved and gate.champion is not None:  # e.g. the quickstart run a second time
        rows = gate.decision.rows
        checks += (
            f"; v{version} is not shown to beat v{gate.champion} on the {rows} sealed test rows "
            "(the same pipelines on the same data train the same models; and so few rows tell "
            "apart only large differences: a challenger needs a larger test split to pass)"
        )
    champion = trainlab.load_model(f"models:/{args.model}@champion")
    from sklearn.datasets import load_wine

    wine = load_wine(as_frame=True)
    rows = [0, 70, 140]
    predicted = [int(p) for p in champion.predict(wine.data.iloc[rows])]
    truth = [int(t) for t in wine.target.iloc[rows]]
    cli = _cli_name()
    ui = "http://127.0.0.1:5000"
    experiment_id = trainlab.get_run(best.run_id).info.experiment_id
    console.print(
        f"\nBest: [bold]{best_label}[/] (run {best.run_id}), test f1_macro "
        f"{best.metrics['test_f1_macro']:.3f}; registered as {args.model} v{version}.\n"
        f"Promotion gate against {against}: {verdict} ({checks}); "
        f"{args.model}@champion is v{gate.version if gate.moved else gate.champion}.\n"
        f"Loaded back as models:/{args.model}@champion, it predicts {predicted} for three "
        f"wines of classes {truth}.\n"
        f"Runs are in {_store_location()}, artifacts in "
        f"{Path('trainlab-artifacts').absolute()}.\n"
        "Where to look next:\n"
        f"  {cli} runs list -e {args.experiment} -o 'metrics.valid_f1_macro DESC' "
        "-c params.model.class\n"
        f"  {cli} runs show {best.run_id}\n"
        f"  {cli} runs list -e {args.experiment} "
        f"-f \"tags.mlflow.parentRunId = '{study.parent_run_id}'\"   # the tuning trials\n"
        f"  {cli} reproduce {best.run_id}\n"
        f"  {cli} models alias history {args.model} champion\n"
        f"  {cli} runs show {gate.evaluation_run_id}   # the gate's evidence\n"
        f"  {cli} server    # the web UI (and any mlflow client) at http://127.0.0.1:5000, then:\n"
        f"    {ui}/experiments/{experiment_id}   every run: sort, filter, compare\n"
        f"    {ui}/studies/{study.parent_run_id}   the tuning study\n"
        f"    {ui}/models/{args.model}   versions, aliases and the gate's evidence",
        soft_wrap=True,  # commands stay on one line, ready to copy
    )


class _Tuned:
    """The best tuning trial, shown like a training result."""

    def __init__(self, run_id: str, metrics: dict[str, float]) -> None:
        self.run_id = run_id
        self.metrics = metrics


if __name__ == "__main__":
    main()
