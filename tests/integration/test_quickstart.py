"""The README's main job: the quickstart trains four pipelines, tunes one, tracks every run in
the embedded store, registers the best on the validation split, promotes it through the gate
and loads the champion back by name."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from trainlab._user import login_name
from trainlab.store.sql.registry import SqlRegistryStore
from trainlab.store.sql.tracking import SqlTrackingStore

EXAMPLE = Path(__file__).parents[2] / "examples" / "quickstart.py"


def test_quickstart_trains_registers_and_says_where_to_look(tmp_path: Path) -> None:
    env = {**os.environ, "TRAINLAB_SPOOL_DIR": str(tmp_path / "spool"), "COLUMNS": "200"}
    for key in ("TRAINLAB_TRACKING_URI", "TRAINLAB_ARTIFACTS_DIR", "TRAINLAB_EXPERIMENT"):
        env.pop(key, None)
    out = subprocess.run(
        [sys.executable, str(EXAMPLE)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    ).stdout
    assert f"Runs are in {tmp_path / 'trainlab.db'}" in out
    assert "runs list -e wine-quickstart" in out
    store = SqlTrackingStore(f"sqlite:///{tmp_path}/trainlab.db", f"file://{tmp_path}/artifacts")
    try:
        exp = store.find_experiment_by_name("wine-quickstart")
        assert exp is not None
        every = list(store.search_runs([exp.experiment_id], max_results=1000))
        studies = [r for r in every if r.data.tags.get("trainlab.study.role") == "parent"]
        trials = [r for r in every if "trainlab.trial.number" in r.data.tags]
        gates = [r for r in every if "trainlab.evaluation" in r.data.tags]
        runs = [r for r in every if r not in studies + trials + gates]
        assert sorted(r.data.params["model.flavor"] for r in runs) == [
            "lightgbm",
            "pytorch",
            "sklearn",
            "xgboost",
        ]
        assert all(r.info.status == "FINISHED" for r in runs + studies + gates)
        assert len(studies) == 1 and len(trials) == 12 and len(gates) == 1
        assert {t.data.tags["mlflow.parentRunId"] for t in trials} == {studies[0].info.run_id}
        for r in runs:
            assert r.data.tags["trainlab.data.test.rows"] == "36"
            assert {"test_f1_macro", "valid_f1_macro", "training_time_s"} <= set(r.data.metrics)
        registry = SqlRegistryStore(store)
        version = registry.get_model_version("wine", 1)
        candidates = runs + [t for t in trials if "valid_f1_macro" in t.data.metrics]
        best = next(r for r in candidates if r.info.run_id == version.run_id)
        assert best.data.metrics["valid_f1_macro"].value == max(
            r.data.metrics["valid_f1_macro"].value for r in candidates
        )
        assert f"(run {best.info.run_id})" in out
        assert registry.get_registered_model("wine").aliases == {"champion": 1}
        moves = registry.get_alias_history("wine", "champion")
        assert [(m.to_version, m.user) for m in moves] == [(1, login_name())]  # who promoted
        assert "registered as wine v1" in out
        assert "Promotion gate against no champion yet: PASS" in out
        assert "it predicts [0, 1, 2] for three wines of classes [0, 1, 2]" in out
    finally:
        store.engine.dispose()
    _suggested_commands_work(out, tmp_path, env, trials=len(trials))


def _suggested_commands_work(out: str, cwd: Path, env: dict[str, str], trials: int) -> None:
    """Each "where to look next" command, pasted into a shell, runs (the server and reproduce,
    which trains again, excepted)."""
    lines = out.split("Where to look next:\n", 1)[1].splitlines()
    commands = [line.strip() for line in lines if line.startswith("  ") and line[2] != " "]
    checked = [c for c in commands if " server" not in c and " reproduce " not in c]
    assert len(checked) == 5, commands

    def bash(command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
        )

    for command in checked:
        done = bash(command)
        assert done.returncode == 0 and not done.stderr, (command, done.stdout, done.stderr)
        if "# the tuning trials" in command:
            listed = bash(command.split("#")[0] + " --json")
            assert len(json.loads(listed.stdout)) == trials, listed.stderr
