"""``trainlab tune --backend ray`` against a local Ray cluster the test starts: a head and a
second node, one CPU each; trials run as Ray actors on them, and a killed actor's trial is
failed and retried."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import optuna
import psutil
import pytest
import yaml
from tests.integration.test_cli import TRAINLAB, one_line
from tests.integration.test_tune import (
    assert_one_killed_attempt_retried,
    children,
    finished_trials,
    study_trials,
)
from tests.unit.client.test_fluent import (  # noqa: F401 - fixtures used by pytest here
    isolated_sdk,
    reset_sdk,
)

RAY = str(Path(sys.executable).with_name("ray"))
ROOT = Path(__file__).resolve().parents[2]
PIPELINE = {
    "experiment": "cancer-ray",
    "data": {"source": "sklearn:breast_cancer", "target": "target",
             "split": {"test": 0.2, "valid": 0.2, "seed": 1, "stratify": True}},
    "model": {"flavor": "sklearn", "class": "sklearn.linear_model.LogisticRegression",
              "params": {"max_iter": 3000}},
    "metrics": ["accuracy", "f1_macro"],
    "tune": {"metric": "valid_f1_macro", "direction": "maximize", "sampler": "random", "seed": 2,
             "space": {"C": {"type": "float", "low": 1e-4, "high": 10, "log": True}}},
}  # fmt: skip


def _env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRAINLAB_", "RAY_"))}
    env |= {"RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}
    env["TRAINLAB_SPOOL_DIR"] = str(tmp / "spool")
    env["PYTHONPATH"] = str(ROOT)  # Ray's workers import tests.support's tuning functions
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def ray_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not Path(RAY).exists():
        pytest.skip("ray is not installed")
    tmp = tmp_path_factory.mktemp("ray")
    env = _env(tmp)
    address = f"127.0.0.1:{_free_port()}"
    port = address.split(":")[1]
    run = lambda *a: subprocess.run(  # noqa: E731
        [RAY, *a], env=env, capture_output=True, text=True, timeout=180
    )
    head = run("start", "--head", f"--port={port}", "--num-cpus=1", "--include-dashboard=false",
               "--node-ip-address=127.0.0.1", f"--temp-dir={tmp / 'r'}")  # fmt: skip
    assert head.returncode == 0, head.stderr
    try:
        node = run("start", f"--address={address}", "--num-cpus=1",
                   "--node-ip-address=127.0.0.1")  # fmt: skip
        assert node.returncode == 0, node.stderr
        yield address
    finally:
        run("stop", "--force")
        shutil.rmtree(tmp / "r", ignore_errors=True)


@pytest.mark.slow
def test_trials_run_as_ray_actors_on_the_cluster(tmp_path: Path, ray_cluster: str) -> None:
    uri = f"sqlite:///{tmp_path}/t.db"
    storage = f"journal:{tmp_path}/s.journal"  # one machine: every node reaches the file
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(PIPELINE))
    proc = subprocess.run(
        [TRAINLAB, "tune", "p.yaml", "--backend", "ray", "--address", ray_cluster,
         "--workers", "2", "--trials", "6", "--study", "on-ray", "--storage", storage,
         "--tracking-uri", uri, "--no-progress"],
        env=_env(tmp_path), cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    parent_id = one_line(proc.stdout).split("its run ")[1].split()[0]
    trials = study_trials(storage, "on-ray")
    assert [t.state for t in trials].count(optuna.trial.TrialState.COMPLETE) == 6
    runs = children(uri, parent_id)
    assert len(runs) == 6
    # The trials ran in Ray's worker processes, not in the command's.
    assert all("default_worker" in r.data.tags["mlflow.source.name"] for r in runs)
    assert {r.data.tags["trainlab.trial.state"] for r in runs} == {"COMPLETE"}


def _actors() -> list[psutil.Process]:
    """Ray's processes running the trial actor (Ray titles them ``ray::_Worker...``)."""
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = proc.info["cmdline"] or []
        if cmdline and cmdline[0].startswith("ray::_Worker"):
            found.append(proc)
    return found


@pytest.mark.slow
def test_a_killed_ray_actor_leaves_a_failed_trial_that_is_retried(
    tmp_path: Path, ray_cluster: str
) -> None:
    uri = f"sqlite:///{tmp_path}/t.db"
    storage = f"journal:{tmp_path}/s.journal"
    script = (
        "import trainlab\n"
        "from tests.support.tune_fns import slow_curve\n"
        "trainlab.tune(fn=slow_curve, space={'x': {'type': 'float', 'low': -4, 'high': 4}},"
        " metric='loss', direction='minimize', pruner='none', trials=6, workers=2,"
        f" backend='ray', ray_address={ray_cluster!r}, experiment='ray-killed', study='rk',"
        f" storage={storage!r}, tracking_uri={uri!r}, progress=False)\n"
    )
    driver = subprocess.Popen([sys.executable, "-c", script], env=_env(tmp_path), cwd=tmp_path,
                              stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        victim = None
        deadline = time.monotonic() + 120
        while victim is None and time.monotonic() < deadline:
            time.sleep(0.2)
            actors = _actors()
            if len(actors) == 2 and finished_trials(storage, "rk") >= 2:
                victim = actors[0]
        assert victim is not None, "no actor to kill"
        time.sleep(0.3)  # mid-trial: each trial takes a second
        victim.send_signal(signal.SIGKILL)
        _, err = driver.communicate(timeout=300)
    finally:
        if driver.poll() is None:
            driver.kill()
    assert driver.returncode == 0, err[-3000:]
    runs = assert_one_killed_attempt_retried(storage, "rk", 6, uri, "ray-killed")
    assert all("default_worker" in r.data.tags["mlflow.source.name"] for r in runs.values())


def test_a_cluster_that_does_not_answer_is_refused_before_the_study(tmp_path: Path) -> None:
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{closed.getsockname()[1]}"
    storage = f"journal:{tmp_path}/s.journal"
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(PIPELINE))
    proc = subprocess.run(
        [TRAINLAB, "tune", "p.yaml", "--backend", "ray", "--address", address, "--trials", "2",
         "--study", "nowhere", "--storage", storage, "--tracking-uri", f"sqlite:///{tmp_path}/t.db",
         "--no-progress"],
        env=_env(tmp_path), cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    assert f"--address {address}: no Ray cluster answers there" in one_line(proc.stderr)
    assert not (tmp_path / "s.journal").exists() and not (tmp_path / "t.db").exists()
