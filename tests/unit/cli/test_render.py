"""How the CLI shows a run's status and scores."""

from __future__ import annotations

from rich.console import Console

from trainlab.cli.render import metrics_table, status
from trainlab.entities import Run, RunData, RunInfo, RunStatus


def _run(state: RunStatus, tags: dict[str, str]) -> Run:
    info = RunInfo("r" * 32, "1", "trial-3", "me", state, 1, 2, "file:///a", "active")
    return Run(info=info, data=RunData(metrics={}, params={}, tags=tags))


def test_a_pruned_trial_says_so() -> None:
    assert status(_run(RunStatus.KILLED, {"trainlab.trial.state": "PRUNED"})) == "KILLED (pruned)"
    assert status(_run(RunStatus.KILLED, {})) == "KILLED"
    assert status(_run(RunStatus.FINISHED, {"trainlab.trial.state": "COMPLETE"})) == "FINISHED"


def test_score_columns_keep_the_order_of_the_pipelines_metrics() -> None:
    """rmse, then mae, as `metrics: [rmse, mae]` scored them, though cross-validation means
    restored from the store on resume come in alphabetical order."""
    scores = {"cv_mae_mean": 2.0, "cv_rmse_mean": 1.0, "cv_rmse_std": 0.1,
              "train_rmse": 1.0, "train_mae": 2.0, "test_rmse": 1.5, "test_mae": 2.5,
              "training_time_s": 3.0}  # fmt: skip
    console = Console(width=100, record=True)
    console.print(metrics_table(scores))
    lines = console.export_text().splitlines()
    header = next(line for line in lines if "split" in line)
    assert header.index("rmse") < header.index("mae")
    rows = [line.split()[1] for line in lines if line.split()[1:2] in (["train"], ["test"], ["cv"])]
    assert rows == ["train", "test", "cv"]
    assert "training_time_s 3" in lines[-1]
