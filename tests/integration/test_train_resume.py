"""Checkpoints, ``trainlab train --resume`` after a SIGKILL, and ``trainlab reproduce``: each
through the real command, checked against an uninterrupted run of the same pipeline."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml
from tests.integration.test_cli import TRAINLAB, cli, one_line, table_rows
from tests.integration.test_train import history, pipeline
from tests.unit.client.test_fluent import (  # noqa: F401 - fixtures used by pytest here
    isolated_sdk,
    reset_sdk,
)

import trainlab

REPO = Path(__file__).resolve().parents[2]
# The user's own module beside the pipeline, imported by `trainlab train` from its folder.
NETS = (REPO / "tests" / "support" / "training_fns.py").read_text()

# Long enough that a kill lands mid-training on a 2-core machine, short enough for CI.
KILLABLE = {
    "sklearn-forest": (
        {
            "flavor": "sklearn",
            "class": "sklearn.ensemble.RandomForestClassifier",
            "params": {"n_estimators": 1200, "max_depth": 4},
        },
        {"checkpoint_every": 2},
        "valid_accuracy",
        20,
    ),
    "xgboost": (
        {
            "flavor": "xgboost",
            "class": "xgboost.XGBClassifier",
            "params": {"n_estimators": 1500, "max_depth": 2, "learning_rate": 0.05},
        },
        {"checkpoint_every": 100},
        "valid_mlogloss",
        1500,
    ),
    "lightgbm": (
        {
            "flavor": "lightgbm",
            "class": "lightgbm.LGBMClassifier",
            "params": {"n_estimators": 1500, "num_leaves": 4, "learning_rate": 0.05},
        },
        {"checkpoint_every": 100},
        "valid_multi_logloss",
        1500,
    ),
    "pytorch": (
        {"flavor": "pytorch", "class": "nets.Net", "params": {"hidden": 8}},
        {"checkpoint_every": 100, "epochs": 1500, "lr": 0.01},
        "valid_loss",
        1500,
    ),
}


def latest_checkpoint(root: Path) -> int | None:
    for marker in root.glob("trainlab-artifacts/*/*/artifacts/checkpoints/latest.json"):
        return int(json.loads(marker.read_text())["step"])
    return None


def train_env(cwd: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRAINLAB_")}
    env["TRAINLAB_SPOOL_DIR"] = str(cwd / "spool")
    return env


def kill_after_first_checkpoint(cwd: Path, uri: str) -> str:
    """Start `trainlab train`, SIGKILL it once a checkpoint is committed; the run's id."""
    log = cwd / "killed.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [TRAINLAB, "train", "pipeline.yaml", "--tracking-uri", uri],
            cwd=cwd,
            env=train_env(cwd),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 120
    try:
        while latest_checkpoint(cwd) is None:
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "no checkpoint within 120 s"
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL, f"not killed in training: {log.read_text()}"
    (run,) = trainlab.search_runs("wine", output="list", tracking_uri=uri)
    assert run.info.status == "RUNNING"
    # killed, it printed nothing more: the command to continue it came as it started
    resume = f"trainlab train --resume {run.info.run_id} --tracking-uri {uri}"
    assert resume in log.read_text().replace("\n", ""), log.read_text()
    return run.info.run_id


@pytest.mark.slow
@pytest.mark.parametrize("flavor", list(KILLABLE))
def test_a_killed_run_resumes_from_its_checkpoint(
    tmp_path: Path, flavor: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    model, train_extra, curve_key, total = KILLABLE[flavor]
    (tmp_path / "nets.py").write_text(NETS)
    monkeypatch.syspath_prepend(str(tmp_path))
    config = pipeline(model=model)
    config["train"].update(train_extra)
    config["metrics"] = ["accuracy", "f1_macro"]
    (tmp_path / "pipeline.yaml").write_text(yaml.safe_dump(config))
    uri = f"sqlite:///{tmp_path}/t.db"
    run_id = kill_after_first_checkpoint(tmp_path, uri)
    killed_at = latest_checkpoint(tmp_path)
    assert killed_at is not None and killed_at < total - 1

    proc = cli("train", "--resume", run_id, "--tracking-uri", uri, "--no-progress", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = one_line(proc.stdout)
    assert f"run {run_id}" in out
    resumed_at = int(out.split("checkpoint at step ")[1].split()[0])
    assert resumed_at >= killed_at

    run = trainlab.get_run(run_id, tracking_uri=uri)
    assert run.info.status == "FINISHED" and run.data.tags["trainlab.resumed"] == "1"
    curve = history(uri, run_id, curve_key)
    assert [s for s, _ in curve] == list(range(total)), "every step exactly once, no gap"
    kept = [f.path for f in trainlab.list_artifacts(run_id, "checkpoints", tracking_uri=uri)]
    assert len(kept) == 3 and "checkpoints/latest.json" in kept  # the newest 2 step folders
    system = history(uri, run_id, "system/cpu_utilization_percentage")
    assert [s for s, _ in system] == list(range(len(system)))

    # The same pipeline without the kill: the same curve and the same final model.
    reference = trainlab.train(config, tracking_uri=f"sqlite:///{tmp_path}/ref.db", progress=False)
    expected = history(f"sqlite:///{tmp_path}/ref.db", reference.run_id, curve_key)
    assert [v for _, v in curve] == pytest.approx([v for _, v in expected], rel=1e-6)
    for key in ("train_accuracy", "valid_accuracy", "test_accuracy", "test_f1_macro"):
        assert run.data.metrics[key].value == pytest.approx(reference.metrics[key]), key


def test_points_the_killed_process_spooled_are_not_logged_twice_on_resume(
    tmp_path: Path,
) -> None:
    """The killed process had points past its checkpoint in its spool (its server was down):
    the resume delivers them before it reads where each curve ends."""
    from trainlab.client.spool import Batch, SpoolFile
    from trainlab.entities import MetricColumns

    model, train_extra, curve_key, total = KILLABLE["sklearn-forest"]
    config = pipeline(model=model)
    config["train"].update(train_extra)
    (tmp_path / "pipeline.yaml").write_text(yaml.safe_dump(config))
    uri = f"sqlite:///{tmp_path}/t.db"
    run_id = kill_after_first_checkpoint(tmp_path, uri)
    stored = {s for s, _ in history(uri, run_id, curve_key)}
    beyond = [s for s in range(total) if s not in stored][:3]
    left = SpoolFile.create(tmp_path / "spool", uri)  # what the killed process could not send
    points = [(curve_key, 0.5, 1_700_000_000_000 + s, s) for s in beyond]
    left.append([(run_id, Batch(MetricColumns.from_points(points)))])
    left.close()

    proc = cli("train", "--resume", run_id, "--tracking-uri", uri, "--no-progress", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    curve = history(uri, run_id, curve_key)
    assert [s for s, _ in curve] == list(range(total)), "every step exactly once"


def test_a_resume_that_cannot_equal_the_uninterrupted_run_says_so(tmp_path: Path) -> None:
    """XGBoost's row sampling restarts its random draws when training continues."""
    model, train_extra, _, _ = KILLABLE["xgboost"]
    config = pipeline(model={**model, "params": {**model["params"], "subsample": 0.8}})
    config["train"].update(train_extra)
    (tmp_path / "pipeline.yaml").write_text(yaml.safe_dump(config))
    uri = f"sqlite:///{tmp_path}/t.db"
    run_id = kill_after_first_checkpoint(tmp_path, uri)
    proc = cli("train", "--resume", run_id, "--tracking-uri", uri, "--no-progress", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    warning = one_line(proc.stderr)
    assert "xgboost samples at random (subsample=0.8)" in warning
    assert f"run {run_id} will be as good as, not equal to, an uninterrupted run" in warning


@contextmanager
def slow_training(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """``trainlab train`` of 40 slow steps (a checkpoint every 5) in a process of its own,
    once it has stored its first checkpoint; the process and the tracking URI."""
    (tmp_path / "nets.py").write_text(NETS)
    model = {"flavor": "python", "class": "nets.fit_slowly", "params": {"steps": 40}}
    config = pipeline(model=model)
    config["train"]["checkpoint_every"] = 5
    (tmp_path / "pipeline.yaml").write_text(yaml.safe_dump(config))
    uri = f"sqlite:///{tmp_path}/t.db"
    proc = subprocess.Popen(
        [TRAINLAB, "train", "pipeline.yaml", "--tracking-uri", uri, "--no-progress"],
        cwd=tmp_path, env=train_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while latest_checkpoint(tmp_path) is None:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no checkpoint within 120 s"
            time.sleep(0.05)
        yield proc, uri
    finally:
        if proc.poll() is None:
            proc.kill()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_ends_the_run_killed_and_says_how_to_resume(
    tmp_path: Path, sig: signal.Signals
) -> None:
    """SIGTERM (timeout, SLURM, Kubernetes) stops training as Ctrl-C does."""
    with slow_training(tmp_path) as (proc, uri):
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + sig, err
    assert "Traceback" not in err
    (run,) = trainlab.search_runs("wine", output="list", tracking_uri=uri)
    run_id = run.info.run_id
    assert run.info.status == "KILLED" and run.info.end_time, run.info
    assert one_line(err) == (
        f"interrupted ({sig.name}): run {run_id} ended KILLED; continue it with: "
        f"trainlab train --resume {run_id} --tracking-uri {uri}"
    )

    proc2 = cli("train", "--resume", run_id, "--tracking-uri", uri, cwd=tmp_path)
    assert proc2.returncode == 0, proc2.stderr
    assert f"run {run_id} resumed after the checkpoint at step " in one_line(proc2.stdout)
    assert trainlab.get_run(run_id, tracking_uri=uri).info.status == "FINISHED"
    assert [s for s, _ in history(uri, run_id, "valid_loss")] == list(range(40))


def test_a_run_still_being_trained_is_not_resumed(tmp_path: Path) -> None:
    """A second process resuming a run that a live one trains would store its steps twice."""
    with slow_training(tmp_path) as (proc, uri):
        (run,) = trainlab.search_runs("wine", output="list", tracking_uri=uri)
        run_id = run.info.run_id
        second = cli("train", "--resume", run_id, "--tracking-uri", uri, cwd=tmp_path)
        assert second.returncode == 2, second.stderr
        assert f"still being trained by process {proc.pid} on this host" in one_line(second.stderr)
        proc.kill()  # the machine's trainer dies: now the run can be resumed
        proc.communicate(timeout=60)
    proc2 = cli("train", "--resume", run_id, "--tracking-uri", uri, "--no-progress", cwd=tmp_path)
    assert proc2.returncode == 0, proc2.stderr
    assert [s for s, _ in history(uri, run_id, "valid_loss")] == list(range(40))


def test_resume_refuses_finished_runs_and_changed_data(tmp_path: Path) -> None:
    import pandas as pd
    from sklearn.datasets import load_wine

    load_wine(as_frame=True).frame.to_csv(tmp_path / "wine.csv", index=False)
    config = pipeline(data={"source": str(tmp_path / "wine.csv"), "target": "target"})
    uri = f"sqlite:///{tmp_path}/t.db"
    done = trainlab.train(config, tracking_uri=uri, progress=False)
    proc = cli("train", "--resume", done.run_id, "--tracking-uri", uri, cwd=tmp_path)
    assert proc.returncode == 2
    assert f"Run {done.run_id} is FINISHED" in one_line(proc.stderr)
    assert f"`trainlab reproduce {done.run_id} --tracking-uri {uri}`" in one_line(proc.stderr)

    # A run that died: marked FAILED; then its data file changes.
    with trainlab.start_run(run_id=done.run_id, tracking_uri=uri) as run:
        run.end("FAILED")
    frame = pd.read_csv(tmp_path / "wine.csv")
    frame.loc[0, "alcohol"] += 1
    frame.to_csv(tmp_path / "wine.csv", index=False)
    proc = cli("train", "--resume", done.run_id, "--tracking-uri", uri, cwd=tmp_path)
    assert proc.returncode == 2
    message = one_line(proc.stderr)
    assert "its data changed" in message and "split's fingerprint is" in message
    assert trainlab.get_run(done.run_id, tracking_uri=uri).info.status == "FAILED"

    proc = cli("train", "pipeline.yaml", "--resume", done.run_id, cwd=tmp_path)
    assert proc.returncode == 2 and "give no PIPELINE" in one_line(proc.stderr)


def test_data_missing_from_another_folder_names_the_training_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pipeline reads data.csv relative to where it trains: resuming or reproducing the run
    from another folder says where that was."""
    from sklearn.datasets import load_wine

    work = tmp_path / "project"
    work.mkdir()
    load_wine(as_frame=True).frame.to_csv(work / "wine.csv", index=False)
    uri = f"sqlite:///{tmp_path}/t.db"
    monkeypatch.chdir(work)
    done = trainlab.train(
        pipeline(data={"source": "wine.csv", "target": "target"}), tracking_uri=uri,
        progress=False,
    )  # fmt: skip
    with trainlab.start_run(run_id=done.run_id, tracking_uri=uri) as run:
        run.end("FAILED")
    for command in (["train", "--resume"], ["reproduce"]):
        proc = cli(*command, done.run_id, "--tracking-uri", uri, cwd=tmp_path)
        assert proc.returncode == 2, proc.stderr
        assert one_line(proc.stderr).endswith(
            f"data.source 'wine.csv': no such file (relative to the current folder, {tmp_path})."
            f" Run {done.run_id} was trained in {work}: run this command there (cd {work})."
        )


def test_a_training_function_checkpoints_and_resumes(tmp_path: Path) -> None:
    """The Python API: a function saves state with ctx.checkpoint and reads ctx.restored."""
    from tests.support.training_fns import fit_sgd_checkpointed

    uri = f"sqlite:///{tmp_path}/t.db"
    data = {"source": "sklearn:iris", "target": "target", "split": {"test": 0.2, "valid": 0.2}}
    options = {"data": data, "params": {"epochs": 30, "fail_at": 17}, "tracking_uri": uri}
    with pytest.raises(RuntimeError, match="crash at step 17"):
        trainlab.train(
            fn=fit_sgd_checkpointed,
            overrides=["train.checkpoint_every=5"],
            experiment="iris",
            progress=False,
            **options,
        )
    (run,) = trainlab.search_runs("iris", output="list", tracking_uri=uri)
    assert run.info.status == "FAILED"
    assert run.data.tags["trainlab.error"] == "RuntimeError: crash at step 17"
    assert [s for s, _ in history(uri, run.info.run_id, "valid_accuracy")] == list(range(17))

    result = trainlab.train(
        fn=fit_sgd_checkpointed, resume_run=run.info.run_id, tracking_uri=uri, progress=False
    )
    assert result.resumed_after_step == 14  # checkpoints after steps 4, 9, 14
    assert [s for s, _ in history(uri, run.info.run_id, "valid_accuracy")] == list(range(30))
    restarts = history(uri, run.info.run_id, "resumed_from")
    assert restarts == [(0, 15.0)]  # the function saw where it restarted
    finished = trainlab.get_run(run.info.run_id, tracking_uri=uri)
    assert finished.info.status == "FINISHED"
    assert "trainlab.error" not in finished.data.tags  # the failure is no longer its outcome


SCRIPT_FIT = """
import os
import sys
import trainlab

def fit(params, ctx):
    if os.environ.get("CRASH"):
        raise RuntimeError("crash")
    from sklearn.linear_model import LogisticRegression
    return LogisticRegression(max_iter=1000).fit(ctx.train.X, ctx.train.y)

if len(sys.argv) > 2:  # the same script resumes the run, with or without fn=
    trainlab.train(resume_run=sys.argv[2], tracking_uri=sys.argv[1])
else:
    trainlab.train(fn=fit, data={"source": "sklearn:iris", "target": "target"},
                   experiment="iris", tracking_uri=sys.argv[1])
"""


def test_a_function_of_a_script_is_resumed_from_that_script(tmp_path: Path) -> None:
    """No other process can import a function of the script that trained: the hint printed as
    the run starts, and `trainlab train --resume`, point to the call in that script."""
    uri = f"sqlite:///{tmp_path}/t.db"
    (tmp_path / "fit.py").write_text(SCRIPT_FIT)
    env = {**train_env(tmp_path), "COLUMNS": "250"}
    proc = subprocess.run(
        [sys.executable, "fit.py", uri], cwd=tmp_path, env={**env, "CRASH": "1"},
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 1 and "crash" in proc.stderr
    (run,) = trainlab.search_runs("iris", output="list", tracking_uri=uri)
    run_id = run.info.run_id
    started = one_line(proc.stdout + proc.stderr)
    assert f'continue it with: trainlab.train(fn=fit, resume_run="{run_id}"' in started
    resumed = cli("train", "--resume", run_id, "--tracking-uri", uri, cwd=tmp_path)
    assert resumed.returncode == 2, resumed.stderr
    message = one_line(resumed.stderr)
    assert f"Run {run_id} was trained by fit() of the script that started it" in message
    assert f'trainlab.train(fn=fit, resume_run="{run_id}", tracking_uri=' in message
    assert trainlab.get_run(run_id, tracking_uri=uri).info.status == "FAILED"
    again = subprocess.run(
        [sys.executable, "fit.py", uri, run_id], cwd=tmp_path, env=env,
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr[-2000:]
    assert trainlab.get_run(run_id, tracking_uri=uri).info.status == "FINISHED"
    copy = cli("reproduce", run_id, "--tracking-uri", uri, cwd=tmp_path)
    assert copy.returncode == 2, copy.stderr
    assert "fit() of the script that started it, which no other process can import" in one_line(
        copy.stderr
    )
    assert "Define fit in a module that the script imports" in one_line(copy.stderr)


def test_reproduce_gives_identical_metrics_and_links_the_runs(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path}/t.db"
    config = pipeline(
        model={
            "flavor": "xgboost",
            "class": "xgboost.XGBClassifier",
            "params": {"n_estimators": 30, "max_depth": 3},
        },
        register={"name": "boosted"},
    )
    original = trainlab.train(config, tracking_uri=uri, progress=False)
    proc = cli("reproduce", original.run_id, "--tracking-uri", uri, "--no-progress", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "registered as models:/boosted/2 (the pipeline's register)" in one_line(proc.stdout)
    new_id = one_line(proc.stdout).split("run ", 1)[1].split()[0]
    assert new_id != original.run_id
    new = trainlab.get_run(new_id, tracking_uri=uri)
    assert new.data.tags["trainlab.reproduces"] == original.run_id
    assert new.data.tags["trainlab.reproduce.exact"] == "True"
    before = trainlab.get_run(original.run_id, tracking_uri=uri).data.metrics
    for key in ("train_accuracy", "valid_mlogloss", "test_accuracy", "test_roc_auc"):
        assert new.data.metrics[key].value == before[key].value, key
    rows = {row[0]: row for row in table_rows(proc.stdout)}
    assert rows["test_accuracy"][3] == "0"
    assert rows["valid_mlogloss"][3] == "0"


def test_reproduce_refuses_changed_data_unless_forced(tmp_path: Path) -> None:
    import pandas as pd
    from sklearn.datasets import load_wine

    load_wine(as_frame=True).frame.to_csv(tmp_path / "wine.csv", index=False)
    config = pipeline(data={"source": str(tmp_path / "wine.csv"), "target": "target"})
    uri = f"sqlite:///{tmp_path}/t.db"
    original = trainlab.train(config, tracking_uri=uri, progress=False)
    frame = pd.read_csv(tmp_path / "wine.csv")
    pd.concat([frame, frame.head(10)]).to_csv(tmp_path / "wine.csv", index=False)

    proc = cli("reproduce", original.run_id, "--tracking-uri", uri, cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout
    message = one_line(proc.stderr)
    assert "cannot be reproduced as recorded" in message
    assert "the train split's fingerprint is" in message and "--force" in message
    assert len(trainlab.search_runs("wine", output="list", tracking_uri=uri)) == 1

    proc = cli("reproduce", original.run_id, "--force", "--tracking-uri", uri, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "forced past: data: the train split" in one_line(proc.stderr)
    new_id = one_line(proc.stdout).split("run ", 1)[1].split()[0]
    new = trainlab.get_run(new_id, tracking_uri=uri)
    assert new.data.tags["trainlab.reproduce.exact"] == "False"
    text = Path(
        trainlab.download_artifacts(new_id, "reproduce/differences.txt", tracking_uri=uri)
    ).read_text()
    assert "the train split's fingerprint" in text


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True
    ).stdout.strip()


def test_reproduce_refuses_changed_code(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "t@example.com")
    git(repo, "config", "user.name", "t")
    (repo / "features.py").write_text("SCALE = 1\n")
    (repo / "pipeline.yaml").write_text(yaml.safe_dump(pipeline()))
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "v1")
    uri = f"sqlite:///{tmp_path}/t.db"
    proc = cli("train", "pipeline.yaml", "--tracking-uri", uri, "--no-progress", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    run_id = one_line(proc.stdout).split("run ", 1)[1].split()[0]
    # The embedded store in the repository is trainlab's, not the code's: no difference.
    proc = cli("reproduce", run_id, "--tracking-uri", uri, "--no-progress", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    # Files new since the run (a log, a download) are named, and not in the way.
    (repo / "out.txt").write_text("a log\n")
    (repo / "dl" / "model").mkdir(parents=True)
    (repo / "dl" / "model" / "MLmodel").write_text("flavors: {}\n")
    proc = cli("reproduce", run_id, "--tracking-uri", uri, "--no-progress", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    assert "files new since the run, not compared: dl/model/MLmodel, out.txt" in one_line(
        proc.stdout + proc.stderr
    )

    (repo / "features.py").write_text("SCALE = 2\n")
    proc = cli("reproduce", run_id, "--tracking-uri", uri, cwd=repo)
    assert proc.returncode == 2
    assert "uncommitted changes differ from the run's" in one_line(proc.stderr)
    assert "features.py" in one_line(proc.stderr)
    git(repo, "commit", "-q", "-am", "v2")
    proc = cli("reproduce", run_id, "--tracking-uri", uri, cwd=repo)
    assert proc.returncode == 2
    head = git(repo, "rev-parse", "HEAD")[:12]
    assert f"commit {head} is checked out" in one_line(proc.stderr)


def test_untracked_files_in_the_diff(tmp_path: Path) -> None:
    from trainlab.training.environment import MAX_UNTRACKED_BYTES, git_info

    git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / "prep.py").write_text("x = 1\n")
    (tmp_path / "big.csv").write_bytes(b"1,2\n" * (MAX_UNTRACKED_BYTES // 4 + 1))
    (tmp_path / "trainlab.db").write_bytes(b"SQLite format 3\0")
    (tmp_path / "trainlab-artifacts" / "0").mkdir(parents=True)
    (tmp_path / "trainlab-artifacts" / "0" / "m.pkl").write_bytes(b"x")
    # Names secrets usually have: never copied into a run the whole server can read.
    for name in (".env", "deploy/id_rsa", "aws.pem", "db_password.txt", "tokenizer.py"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text("AWS_SECRET_ACCESS_KEY=supersecret123\n")
    info = git_info(tmp_path)
    assert info is not None and info.commit == "" and info.dirty
    assert "+x = 1" in info.diff
    assert "big.csv" not in info.diff
    assert info.skipped == (".env", "aws.pem", "big.csv", "db_password.txt", "deploy/id_rsa")
    assert info.diff.count("supersecret123") == 1  # tokenizer.py's, a file of code
    assert "trainlab" not in info.diff
    assert git(tmp_path, "status", "--porcelain").count("??") == 9  # the index is untouched
