"""The README's main job: the quickstart trains, tracks and reports in the embedded store."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from trainlab.store.sql.tracking import SqlTrackingStore

EXAMPLE = Path(__file__).parents[2] / "examples" / "quickstart.py"


def test_quickstart_tracks_every_run(tmp_path: Path) -> None:
    env = {**os.environ, "TRAINLAB_SPOOL_DIR": str(tmp_path / "spool"), "COLUMNS": "200"}
    env.pop("TRAINLAB_TRACKING_URI", None)
    out = subprocess.run(
        [sys.executable, str(EXAMPLE), "--epochs", "5"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    ).stdout
    assert f"Runs are in {tmp_path / 'trainlab.db'}" in out
    assert "runs list -e quickstart" in out
    store = SqlTrackingStore(f"sqlite:///{tmp_path}/trainlab.db", f"file://{tmp_path}/artifacts")
    exp = store.find_experiment_by_name("quickstart")
    assert exp is not None
    runs = list(store.search_runs([exp.experiment_id], max_results=100))
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parents[0].run_id]
    assert len(parents) == 1 and len(children) == 6
    assert all(r.info.status == "FINISHED" for r in runs)
    sgd = [r for r in children if r.data.params["model"] == "sgd"]
    assert len(sgd) == 2
    history = store.get_metric_history(sgd[0].run_id, "valid_accuracy")
    assert [m.step for m in history] == list(range(5))
    assert all(0.0 <= c.data.metrics["valid_f1_macro"].value <= 1.0 for c in children)
    best_id = max(children, key=lambda r: r.data.metrics["valid_f1_macro"].value).run_id[:8]
    assert best_id in out
    store.engine.dispose()
