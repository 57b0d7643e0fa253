"""``trainlab tune`` and ``trainlab.tune`` end to end: studies as parent runs, trials as child
runs with their params, states and pruning curves; parallel workers, a killed worker, resume,
and every way a search space can be wrong, refused before any trial."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any

import optuna
import psutil
import pytest
import yaml
from tests.integration.test_cli import TRAINLAB, assert_clean_error, cli, one_line
from tests.integration.test_train import history
from tests.unit.client.test_fluent import (  # noqa: F401 - fixtures used by pytest here
    isolated_sdk,
    reset_sdk,
)

import trainlab
from trainlab.tuning.study import ERROR, RETRY_OF, SLOT, open_storage

BOOSTED = {
    "experiment": "cancer",
    "data": {
        "source": "sklearn:breast_cancer",
        "target": "target",
        "split": {"test": 0.2, "valid": 0.25, "seed": 3, "stratify": True},
    },
    "model": {
        "flavor": "xgboost",
        "class": "xgboost.XGBClassifier",
        "params": {"n_estimators": 40, "max_depth": 3},
    },
    "train": {"seed": 3},
    "metrics": ["accuracy", "f1_macro"],
    "tune": {
        "metric": "valid_f1_macro",
        "direction": "maximize",
        "sampler": "tpe",
        "pruner": "median",
        "seed": 5,
        "space": {
            # tiny learning rates cannot get anywhere in 40 rounds: the pruner stops them
            "learning_rate": {"type": "float", "low": 1e-4, "high": 0.5, "log": True},
            "max_depth": {"type": "int", "low": 1, "high": 5},
        },
    },
}


def study_trials(storage: str, name: str) -> list[optuna.trial.FrozenTrial]:
    return optuna.load_study(study_name=name, storage=open_storage(storage)).trials


def children(uri: str, parent_id: str) -> list[Any]:
    parent = trainlab.get_run(parent_id, tracking_uri=uri)
    found = trainlab.search_runs(
        [parent.info.experiment_id],
        f"tags.`mlflow.parentRunId` = '{parent_id}'",
        output="list",
        max_results=1000,
        tracking_uri=uri,
    )
    assert isinstance(found, list)
    return found


def test_a_storage_that_cannot_be_reached_is_a_clean_error(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(BOOSTED))
    uri = f"sqlite:///{tmp_path}/t.db"
    proc = cli(
        "tune", "p.yaml", "--tracking-uri", uri, "--study", "s", "--no-progress",
        "--storage", "postgresql://trainlab:secret@127.0.0.1:1/optuna", cwd=tmp_path,
    )  # fmt: skip
    assert_clean_error(
        proc,
        "--storage postgresql://trainlab:***@127.0.0.1:1/optuna: cannot open the study storage",
        "Check that the database server is running",
    )
    assert "secret" not in proc.stderr
    assert not (tmp_path / "t.db").exists()  # nothing started


def test_a_study_takes_trials_of_its_own_pipeline_only(tmp_path: Path) -> None:
    """Two pipelines of one experiment share the default study name: the second is refused,
    with what differs, and --resume does not merge it in."""
    uri = f"sqlite:///{tmp_path}/t.db"
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(BOOSTED))
    other = {**BOOSTED, "model": {**BOOSTED["model"], "params": {"n_estimators": 20}}}
    (tmp_path / "other.yaml").write_text(yaml.safe_dump(other))
    args = ("--trials", "2", "--tracking-uri", uri, "--no-progress")
    assert cli("tune", "p.yaml", *args, cwd=tmp_path).returncode == 0
    for resume in ((), ("--resume",)):
        proc = cli("tune", "other.yaml", *args, *resume, cwd=tmp_path)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
        message = one_line(proc.stderr)
        assert "error: Study 'cancer' already exists in journal:" in message
        assert (
            "made from another pipeline (2 difference(s): model.params.max_depth: 3 -> (none); "
            "model.params.n_estimators: 40 -> 20)" in message
        )
    # the same pipeline, with more trials and other checkpoints: its trials compare
    kept = {**BOOSTED, "train": {**BOOSTED["train"], "keep_checkpoints": 5}}
    (tmp_path / "kept.yaml").write_text(yaml.safe_dump(kept))
    proc = cli("tune", "kept.yaml", *args[:1], "3", *args[2:], "--resume", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr


def test_a_pipeline_study_with_two_workers(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path}/t.db"
    storage = f"journal:{tmp_path}/s.journal"
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(BOOSTED))
    proc = cli(
        "tune", "p.yaml", "--trials", "20", "--workers", "2", "--tracking-uri", uri,
        "--storage", storage, "--study", "cancer-xgb", "--no-progress", cwd=tmp_path, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = one_line(proc.stdout)
    parent_id = out.split("its run ")[1].split()[0]
    trials = study_trials(storage, "cancer-xgb")
    finished = [t for t in trials if t.state.is_finished()]
    assert len(finished) == 20 and sorted(t.user_attrs[SLOT] for t in finished) == list(range(20))
    pruned = [t for t in trials if t.state == optuna.trial.TrialState.PRUNED]
    assert pruned, "the median pruner stopped some trials"

    runs = {int(r.data.tags["trainlab.trial.number"]): r for r in children(uri, parent_id)}
    assert sorted(runs) == sorted(t.number for t in trials)
    for t in trials:
        run = runs[t.number]
        assert run.data.tags["trainlab.trial.state"] == t.state.name
        assert float(run.data.params["model.learning_rate"]) == t.params["learning_rate"]
        assert int(run.data.params["model.max_depth"]) == t.params["max_depth"]
        assert run.data.metrics["trial_duration_s"].value > 0
        if t.state == optuna.trial.TrialState.COMPLETE:
            assert run.info.status == "FINISHED"
            assert run.data.metrics["valid_f1_macro"].value == t.value
        if t.state == optuna.trial.TrialState.PRUNED:
            assert run.info.status == "KILLED"
            seen = history(uri, run.info.run_id, "pruner/valid_logloss")
            reported = sorted(t.intermediate_values.items())
            assert [(s, v) for s, v in seen] == [(s, v) for s, v in reported]
            assert run.data.tags["trainlab.stopped"].startswith("pruned at step")

    study = optuna.load_study(study_name="cancer-xgb", storage=open_storage(storage))
    parent = trainlab.get_run(parent_id, tracking_uri=uri)
    assert parent.info.status == "FINISHED"
    assert parent.data.tags["trainlab.best_trial"] == str(study.best_trial.number)
    best_run = runs[study.best_trial.number]
    assert parent.data.tags["trainlab.best_run_id"] == best_run.info.run_id
    assert parent.data.metrics["best_value"].value == study.best_value
    assert parent.data.metrics["trials_pruned"].value == len(pruned)
    assert {"importance/learning_rate", "importance/max_depth"} <= set(parent.data.metrics)
    complete = sorted(t.number for t in trials if t.state == optuna.trial.TrialState.COMPLETE)
    assert [s for s, _ in history(uri, parent_id, "trial_value")] == complete
    summary = json.loads(
        Path(
            trainlab.download_artifacts(parent_id, "study/summary.json", tracking_uri=uri)
        ).read_text()
    )
    assert summary["best"][0]["number"] == study.best_trial.number
    assert f"trainlab runs show {parent_id}" in out
    assert best_run.info.run_id in out  # whole in the table, also when piped (80 columns)
    assert "-o 'metrics.valid_f1_macro DESC'" in out  # maximized: the best trials first
    assert "has ended" not in proc.stderr  # nothing is logged to a pruned trial's ended run


def script_env(tmp_path: Path) -> dict[str, str]:
    """For a Python script of the test's own that imports tests.support: no TRAINLAB_ settings
    of the caller's, a spool of its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRAINLAB_")}
    env["TRAINLAB_SPOOL_DIR"] = str(tmp_path / "spool")
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    return env


def test_a_killed_worker_leaves_a_failed_trial_that_is_retried(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path}/t.db"
    storage = f"journal:{tmp_path}/s.journal"
    env = script_env(tmp_path)
    script = (
        "import trainlab\n"
        "from tests.support.tune_fns import slow_curve\n"
        f"trainlab.tune(fn=slow_curve, space={{'x': {{'type': 'float', 'low': -4, 'high': 4}}}},"
        f" metric='loss', direction='minimize', pruner='none', trials=8, workers=2,"
        f" experiment='killed', study='k', storage={storage!r}, tracking_uri={uri!r},"
        " progress=False)\n"
    )
    driver = subprocess.Popen([str(Path(TRAINLAB).with_name("python")), "-c", script], env=env,
                              cwd=tmp_path, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        victim = None
        deadline = time.monotonic() + 60
        while victim is None and time.monotonic() < deadline:
            time.sleep(0.2)
            workers = psutil.Process(driver.pid).children()
            if len(workers) == 2 and finished_trials(storage, "k") >= 2:
                victim = workers[0]
        assert victim is not None, "no worker to kill"
        time.sleep(0.3)  # mid-trial
        victim.send_signal(signal.SIGKILL)
        _, err = driver.communicate(timeout=120)
    finally:
        if driver.poll() is None:
            driver.kill()
    assert driver.returncode == 0, err
    assert_one_killed_attempt_retried(storage, "k", 8, uri, "killed")


def assert_one_killed_attempt_retried(
    storage: str, study: str, slots: int, uri: str, experiment: str
) -> dict[int, Any]:
    """Every slot done once; one attempt failed by its worker's death (not by an error of its
    own), its params tried again, its run FAILED. The trial runs, by trial number."""
    trials = study_trials(storage, study)
    done = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert sorted(t.user_attrs[SLOT] for t in done) == list(range(slots)), "every slot once"
    abandoned = [t for t in trials if t.state == optuna.trial.TrialState.FAIL]
    assert len(abandoned) == 1 and ERROR not in abandoned[0].user_attrs
    retried = [t for t in done if t.user_attrs.get(RETRY_OF) == abandoned[0].number]
    assert len(retried) == 1 and retried[0].params == abandoned[0].params
    parent_id = trainlab.search_runs(experiment, "tags.`trainlab.study.role` = 'parent'",
                                     output="list", tracking_uri=uri)[0].info.run_id  # type: ignore[index]  # fmt: skip
    runs = {int(r.data.tags["trainlab.trial.number"]): r for r in children(uri, parent_id)}
    assert runs[abandoned[0].number].info.status == "FAILED"
    assert runs[retried[0].number].data.tags["trainlab.trial.retry_of"] == str(abandoned[0].number)
    return runs


def finished_trials(storage: str, name: str) -> int:
    try:
        return sum(t.state.is_finished() for t in study_trials(storage, name))
    except KeyError:
        return 0


def test_resume_continues_a_study_and_refuses_without_it(tmp_path: Path) -> None:
    from tests.support.tune_fns import quadratic

    uri = f"sqlite:///{tmp_path}/t.db"
    storage = f"journal:{tmp_path}/s.journal"
    options: dict[str, Any] = {
        "space": {"x": {"type": "float", "low": -5, "high": 5}},
        "metric": "loss",
        "direction": "minimize",
        "experiment": "resume",
        "study": "r",
        "storage": storage,
        "tracking_uri": uri,
        "progress": False,
    }
    first = trainlab.tune(fn=quadratic, trials=6, **options)
    with pytest.raises(
        trainlab.exceptions.InvalidState, match=r"--resume \(resume=True in Python\)"
    ):
        trainlab.tune(fn=quadratic, trials=10, **options)
    for bad, needle in ((0, "trials must be >= 1"), (-3, "trials must be >= 1")):
        with pytest.raises(trainlab.exceptions.InvalidParameterValue, match=needle):
            trainlab.tune(fn=quadratic, trials=bad, resume=True, **options)
    with pytest.raises(trainlab.exceptions.InvalidParameterValue, match="timeout must be > 0"):
        trainlab.tune(fn=quadratic, trials=10, timeout=0, resume=True, **options)
    second = trainlab.tune(fn=quadratic, trials=10, resume=True, **options)
    assert second.parent_run_id == first.parent_run_id
    assert second.summary.counts["complete"] == 10
    trials = study_trials(storage, "r")
    assert sorted(t.user_attrs[SLOT] for t in trials) == list(range(10))
    assert len(children(uri, first.parent_run_id)) == 10
    with pytest.raises(trainlab.exceptions.InvalidState, match="no study 'other'"):
        trainlab.tune(fn=quadratic, trials=2, resume=True, **{**options, "study": "other"})
    # another space, or another function, would mix trials that cannot be compared
    narrower = {**options, "space": {"x": {"type": "float", "low": -3, "high": 5}}}
    for resume in (True, False):
        with pytest.raises(trainlab.exceptions.InvalidState) as err:
            trainlab.tune(fn=quadratic, trials=12, resume=resume, **narrower)
        assert (
            "made from another objective (1 difference(s): tune.space.x.low: -5.0 -> -3.0). Its "
            "trials cannot be compared with this objective's: start another study with --study"
        ) in err.value.message
        assert "--resume" not in err.value.message
    from tests.support.tune_fns import failing

    with pytest.raises(trainlab.exceptions.InvalidState, match="objective: 'tests.support"):
        trainlab.tune(fn=failing, trials=12, resume=True, **options)
    assert len(study_trials(storage, "r")) == 10


@pytest.mark.parametrize("sampler", ["random", "tpe"])
def test_a_resumed_study_samples_new_points(tmp_path: Path, sampler: str) -> None:
    from tests.support.tune_fns import quadratic

    def study(name: str, trials: int, resume: bool = False) -> list[tuple[float, float]]:
        trainlab.tune(
            fn=quadratic,
            space={"x": {"type": "float", "low": -5, "high": 5},
                   "y": {"type": "float", "low": 0, "high": 1}},
            metric="loss", direction="minimize", sampler=sampler, pruner="none", seed=11,
            trials=trials, resume=resume, experiment="seeds", study=name,
            storage=f"journal:{tmp_path}/{name}.journal", tracking_uri=f"sqlite:///{tmp_path}/t.db",
            progress=False,
        )  # fmt: skip
        trials_ = sorted(study_trials(f"journal:{tmp_path}/{name}.journal", name),
                         key=lambda t: t.number)  # fmt: skip
        return [(t.params["x"], t.params["y"]) for t in trials_]

    first = study("a", 3)
    assert study("b", 3) == first  # a new study: the same points for the same seed
    resumed = study("a", 6, resume=True)
    assert resumed[:3] == first and len(resumed) == 6
    assert len(set(resumed)) == 6, f"the resumed study repeated points: {resumed}"


@pytest.mark.parametrize("sampler", ["tpe", "random", "grid", "gp", "cmaes", "nsga2"])
def test_every_sampler(tmp_path: Path, sampler: str) -> None:
    from tests.support.tune_fns import quadratic

    step = {"step": 1.0} if sampler == "grid" else {}
    result = trainlab.tune(
        fn=quadratic,
        space={"x": {"type": "float", "low": -3, "high": 5, **step}},
        metric="loss",
        direction="minimize",
        sampler=sampler,
        pruner="none",
        seed=0,
        trials=9,
        experiment=f"sampler-{sampler}",
        tracking_uri=f"sqlite:///{tmp_path}/t.db",
        storage=f"journal:{tmp_path}/s.journal",
        progress=False,
    )
    assert result.summary.counts == {"complete": 9, "pruned": 0, "fail": 0}
    best = result.summary.best[0]
    assert best.values == [pytest.approx((best.params["x"] - 2) ** 2)]
    if sampler == "grid":  # every grid point exactly once
        xs = sorted(t.params["x"] for t in study_trials(f"journal:{tmp_path}/s.journal",
                                                        f"sampler-{sampler}"))  # fmt: skip
        assert xs == [float(v) for v in range(-3, 6)]


def test_two_objectives_give_a_pareto_front(tmp_path: Path) -> None:
    from tests.support.tune_fns import two_objectives

    result = trainlab.tune(
        fn=two_objectives,
        space={"x": {"type": "float", "low": -1, "high": 3}},
        metric=["cost", "error"],
        direction=["minimize", "minimize"],
        sampler="nsga2",
        pruner="none",
        seed=0,
        trials=12,
        experiment="pareto",
        tracking_uri=f"sqlite:///{tmp_path}/t.db",
        storage=f"journal:{tmp_path}/s.journal",
        progress=False,
    )
    front = result.summary.best
    assert front and all(0 <= b.params["x"] <= 2 for b in front)  # non-dominated: x in [0, 2]


def test_a_failing_trial_is_recorded_and_the_study_goes_on(tmp_path: Path) -> None:
    from tests.support.tune_fns import failing

    result = trainlab.tune(
        fn=failing,
        space={"x": {"type": "float", "low": -1, "high": 1}},
        metric="loss",
        direction="minimize",
        sampler="random",
        seed=1,
        trials=8,
        experiment="failing",
        tracking_uri=f"sqlite:///{tmp_path}/t.db",
        storage=f"journal:{tmp_path}/s.journal",
        progress=False,
    )
    counts = result.summary.counts
    assert counts["fail"] > 0 and counts["complete"] + counts["fail"] == 8
    assert "RuntimeError: diverged at x=" in result.summary.errors[0]


# Training functions, written beside a pipeline as a module of the user's own.
TRAINING_FNS = (Path(__file__).resolve().parents[1] / "support" / "training_fns.py").read_text()


def function_pipeline(fn: str, params: dict[str, Any], trials: int) -> dict[str, Any]:
    """A pipeline that tunes the training function ``fns.<fn>`` (one pointless dimension)."""
    return {
        "experiment": "fns",
        "data": {"source": "sklearn:iris", "target": "target",
                 "split": {"test": 0.2, "valid": 0.2, "seed": 1}},
        "model": {"flavor": "python", "class": f"fns.{fn}", "params": params},
        "metrics": ["accuracy"],
        "tune": {"metric": "valid_accuracy", "direction": "maximize", "sampler": "random",
                 "pruner": "none", "seed": 2, "trials": trials,
                 "space": {"rate": {"type": "float", "low": 0.1, "high": 1.0}}},
    }  # fmt: skip


@pytest.mark.parametrize(
    ("sig", "group", "workers"),
    [
        (signal.SIGINT, True, 2),
        (signal.SIGINT, "twice", 2),
        (signal.SIGTERM, False, 2),
        (signal.SIGTERM, False, 1),
    ],
    ids=[
        "ctrl-c-to-the-group",
        "again-while-stopping",
        "sigterm-with-workers",
        "sigterm-in-process",
    ],
)
def test_a_signal_ends_the_study_and_its_trials_killed(
    tmp_path: Path, sig: signal.Signals, group: bool | str, workers: int
) -> None:
    uri = f"sqlite:///{tmp_path}/t.db"
    storage = f"journal:{tmp_path}/s.journal"
    (tmp_path / "fns.py").write_text(TRAINING_FNS)
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(function_pipeline("fit_slowly", {}, 4)))
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRAINLAB_")}
    env["TRAINLAB_SPOOL_DIR"] = str(tmp_path / "spool")
    proc = subprocess.Popen(
        [TRAINLAB, "tune", "p.yaml", "--study", "slow", "--storage", storage, "--workers",
         str(workers), "--tracking-uri", uri, "--no-progress"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip

    def runs() -> list[Any]:
        try:
            found = trainlab.search_runs("fns", output="list", tracking_uri=uri)
        except trainlab.exceptions.InvalidParameterValue:  # no experiment yet
            return []
        assert isinstance(found, list)
        return found

    try:
        deadline = time.monotonic() + 120
        while sum(r.info.status == "RUNNING" and r.info.run_name.startswith("trial-")
                  for r in runs()) < workers:  # fmt: skip
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no trials running within 120 s"
            time.sleep(0.2)
        time.sleep(0.5)  # mid-training
        workers_ = psutil.Process(proc.pid).children()
        if group == "twice":  # as `timeout` does: the process, then its group
            proc.send_signal(sig)
            time.sleep(0.1)  # the study is stopping its workers
            os.killpg(proc.pid, sig)
        elif group:  # what Ctrl-C in a terminal does
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 128 + sig, err
    assert "Traceback" not in err, err
    (parent,) = [r for r in runs() if r.data.tags.get("trainlab.study.role") == "parent"]
    trials = [r for r in runs() if r.info.run_name.startswith("trial-")]
    assert len(trials) == workers
    assert all(r.info.status == "KILLED" and r.info.end_time for r in [parent, *trials])
    for trial in trials:  # failed for the study, which tries them again on resume
        assert trial.data.tags["trainlab.trial.state"] == "FAIL"
        assert "tried again" in trial.data.tags["trainlab.stopped"]
    assert one_line(err).endswith(
        f"interrupted ({sig.name}): the study's run {parent.info.run_id} and its trials in "
        f"flight ended KILLED; continue it with: trainlab tune p.yaml --storage {storage} "
        f"--workers {workers} --tracking-uri {uri} --no-progress --study slow --resume"
    ), err
    assert not [w for w in workers_ if w.is_running()], "a worker was left behind"


def test_a_study_whose_trials_all_fail_fails(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path}/t.db"
    (tmp_path / "fns.py").write_text(TRAINING_FNS)
    config = function_pipeline("fit_sgd_checkpointed", {"epochs": 3, "fail_at": 0}, 3)
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(config))
    proc = cli("tune", "p.yaml", "--study", "fails", "--tracking-uri", uri, "--no-progress",
               cwd=tmp_path, timeout=120)  # fmt: skip
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert (
        "error: all 3 trials of study fails failed; the first: trial 0 (slot 0): RuntimeError: "
        "crash at step 0" in one_line(proc.stderr)
    ), proc.stderr
    trials = trainlab.search_runs("fns", "tags.`trainlab.trial.state` = 'FAIL'", output="list",
                                  tracking_uri=uri)  # fmt: skip
    assert len(trials) == 3
    for run in trials:
        assert run.info.status == "FAILED"  # type: ignore[union-attr]
        assert run.data.tags["trainlab.error"] == "RuntimeError: crash at step 0"  # type: ignore[union-attr]


def test_a_minimized_study_with_an_unreported_prune_curve(tmp_path: Path) -> None:
    """The warning that tune.prune_on is not reported comes once, not once per trial; the next
    step lists the trials best first: ascending for a minimized metric."""
    config = json.loads(json.dumps(BOOSTED))
    config["metrics"] = ["accuracy", "logloss"]
    config["tune"].update(metric="valid_logloss", direction="minimize", prune_on="valid_nope",
                          sampler="random")  # fmt: skip
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(config))
    uri = f"sqlite:///{tmp_path}/t.db"
    proc = cli("tune", "p.yaml", "--trials", "4", "--workers", "2", "--tracking-uri", uri,
               "--no-progress", cwd=tmp_path, timeout=300)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    err = one_line(proc.stderr)
    assert err.count("tune.prune_on 'valid_nope' is not a curve this model reports") == 1, err
    assert "-o 'metrics.valid_logloss ASC'" in one_line(proc.stdout)


BAD_SPACES = [
    ({"max_depth": {"type": "int", "low": 9, "high": 2}},
     "tune.space.max_depth: low (9) is greater than high (2)"),
    ({"max_depth": {"type": "integer", "low": 1, "high": 2}},
     "tune.space.max_depth.type: Input should be"),
    ({"criterion": {"type": "categorical", "choices": []}}, "needs a non-empty list of choices"),
    ({"n_trees": {"type": "int", "low": 1, "high": 2}}, "model.params ['n_trees']"),
    ({"train.nope": {"type": "int", "low": 1, "high": 2}}, "train.nope: unknown key"),
    ({"learning_rate": {"type": "float", "low": 0, "high": 1, "log": True}},
     "a log scale needs low > 0"),
    ({"max_depth": {"type": "int", "low": 1, "high": 2},
      "train.lr": {"type": "float", "low": 1e-4, "high": 0.1, "log": True}},
     "tune.space ['train.lr']: a sklearn model does not use them"),
]  # fmt: skip


@pytest.mark.parametrize(("space", "message"), BAD_SPACES, ids=[m for _, m in BAD_SPACES])
def test_bad_search_spaces_fail_before_any_trial(
    tmp_path: Path, space: dict[str, Any], message: str
) -> None:
    config = json.loads(json.dumps(BOOSTED))
    config["tune"]["space"] = space
    config["model"] = {"flavor": "sklearn", "class": "sklearn.ensemble.RandomForestClassifier"}
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(config))
    uri = f"sqlite:///{tmp_path}/t.db"
    proc = cli("tune", "p.yaml", "--tracking-uri", uri, "--no-progress", cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout
    assert message in one_line(proc.stderr), proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "trainlab-studies").exists() and not (tmp_path / "t.db").exists()


@pytest.mark.parametrize(
    ("tune", "message"),
    [
        ({"metric": "test_f1_macro"}, "the test split is sealed"),
        ({"metric": "valid_rmse"}, "tune.metric ['valid_rmse']: the pipeline reports"),
        ({"metric": "valid_logloss"}, "or add ['logloss'] to the pipeline's metrics:"),
        ({"sampler": "grid"}, "the grid sampler needs a step for a float parameter"),
        ({"metric": ["valid_f1_macro", "valid_accuracy"], "direction": ["maximize"]},
         "2 metric(s) need as many directions, got 1"),
        ({"direction": "max"},
         "tune.direction: 'max' is not a direction: write maximize or minimize (maximize?)"),
    ],
)  # fmt: skip
def test_bad_tune_settings_fail_before_any_trial(
    tmp_path: Path, tune: dict[str, Any], message: str
) -> None:
    config = json.loads(json.dumps(BOOSTED))
    config["tune"].update(tune)
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(config))
    proc = cli("tune", "p.yaml", "--tracking-uri", f"sqlite:///{tmp_path}/t.db", cwd=tmp_path)
    assert proc.returncode == 2 and message in one_line(proc.stderr), proc.stderr
    assert not (tmp_path / "trainlab-studies").exists()


def test_an_unused_booster_param_in_the_space_fails_before_any_trial(tmp_path: Path) -> None:
    config = json.loads(json.dumps(BOOSTED))  # XGBoost: takes any booster param by name
    config["tune"]["space"] = {"n_trees": {"type": "int", "low": 1, "high": 2}}
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(config))
    proc = cli("tune", "p.yaml", "--tracking-uri", f"sqlite:///{tmp_path}/t.db", cwd=tmp_path)
    assert proc.returncode == 2 and "model.params ['n_trees']" in one_line(proc.stderr)
    assert not (tmp_path / "trainlab-studies").exists()


def test_kubernetes_dry_run_prints_a_valid_indexed_job(tmp_path: Path) -> None:
    from trainlab.tuning.kubernetes import validate_manifest

    (tmp_path / "p.yaml").write_text(yaml.safe_dump(BOOSTED))
    proc = cli(
        "tune", "p.yaml", "--backend", "kubernetes", "--dry-run", "--trials", "30",
        "--workers", "6", "--image", "registry.example.com/team/train:1.4", "--cpu", "2",
        "--memory", "4Gi", "--gpu", "1", "--secret", "trainlab-credentials",
        "--storage", "postgresql://optuna@db/studies", "--study", "cancer-k8s", cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    job = yaml.safe_load(proc.stdout)
    validate_manifest(job)
    spec = job["spec"]
    assert (spec["completionMode"], spec["completions"], spec["parallelism"]) == ("Indexed", 30, 6)
    pod = spec["template"]["spec"]
    container = pod["containers"][0]
    assert container["command"] == ["trainlab", "tune-worker", "--study", "cancer-k8s"]
    assert container["envFrom"] == [{"secretRef": {"name": "trainlab-credentials"}}]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert pod["restartPolicy"] == "Never" and spec["backoffLimitPerIndex"] == 2
    assert not (tmp_path / "trainlab-studies").exists()  # a dry run creates nothing


def test_kubernetes_with_an_unreachable_study_creates_nothing(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(BOOSTED))
    uri = f"sqlite:///{tmp_path}/t.db"
    args = ["tune", "p.yaml", "--backend", "kubernetes", "--image", "r/train:1", "--study", "k"]
    proc = cli(*args, "--tracking-uri", uri, cwd=tmp_path)
    assert proc.returncode == 2 and "Pods cannot reach a journal file" in one_line(proc.stderr)
    assert not (tmp_path / "trainlab-studies").exists()  # no study, so the name stays free
    if (tmp_path / "t.db").exists():  # no study run either
        with contextlib.closing(sqlite3.connect(tmp_path / "t.db")) as db:
            assert db.execute("SELECT count(*) FROM runs").fetchone() == (0,)


def test_tune_worker_runs_one_slot_of_a_study(tmp_path: Path) -> None:
    from tests.support.tune_fns import quadratic

    storage = f"journal:{tmp_path}/s.journal"
    uri = f"sqlite:///{tmp_path}/t.db"
    trainlab.tune(fn=quadratic, space={"x": {"type": "float", "low": -5, "high": 5}},
                  metric="loss", direction="minimize", trials=2, experiment="pods", study="p",
                  storage=storage, tracking_uri=uri, progress=False, workers=2)  # fmt: skip
    env = {"TRAINLAB_STUDY_STORAGE": storage, "JOB_COMPLETION_INDEX": "5"}
    proc = subprocess.run(
        [TRAINLAB, "tune-worker", "--study", "p"],
        env={**os.environ, **env, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "slot 5: COMPLETE" in proc.stdout
    slots = sorted(t.user_attrs[SLOT] for t in study_trials(storage, "p"))
    assert slots == [0, 1, 5]


def test_a_study_that_is_not_there_is_refused_and_nothing_is_created(tmp_path: Path) -> None:
    """A worker or a --resume of a study that does not exist, a slot that is not one, and a
    study name whose journal would lie outside ./trainlab-studies: exit 2, no file made."""

    def refused(proc: subprocess.CompletedProcess[str], needle: str) -> None:
        assert proc.returncode == 2, (proc.stdout, proc.stderr)
        assert proc.stderr.startswith("error: ") and "Traceback" not in proc.stderr
        assert needle in one_line(proc.stderr), proc.stderr

    missing = tmp_path / "trainlab-studies" / "nosuch.journal"
    worker = ("tune-worker", "--study", "nosuch", "--storage", f"journal:{missing}")
    refused(cli(*worker, "--slot", "0", cwd=tmp_path), "There is no study 'nosuch' in journal:")
    refused(cli(*worker, "--slot", "-1", cwd=tmp_path), "slot -1: a slot is a number, 0 or")
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(BOOSTED))
    uri = ("--tracking-uri", f"sqlite:///{tmp_path}/t.db")
    resume = cli("tune", "p.yaml", "--study", "nosuch", "--resume", *uri, cwd=tmp_path)
    refused(resume, "There is no study 'nosuch' in journal:")
    for name, message in (
        ("../evil", "would lie outside ./trainlab-studies"),
        (str(tmp_path / "abs"), "would lie outside ./trainlab-studies"),
        ("", "the study name is empty"),
    ):
        refused(cli("tune", "p.yaml", "--study", name, *uri, cwd=tmp_path), message)
    assert not list(tmp_path.rglob("*.journal"))


def test_a_tune_worker_stopped_by_sigterm_ends_its_trial_killed(tmp_path: Path) -> None:
    from tests.support.tune_fns import quadratic_or_wait

    storage = f"journal:{tmp_path}/s.journal"
    uri = f"sqlite:///{tmp_path}/t.db"
    trainlab.tune(fn=quadratic_or_wait, space={"x": {"type": "float", "low": -5, "high": 5}},
                  metric="loss", direction="minimize", trials=1, experiment="pods", study="p",
                  storage=storage, tracking_uri=uri, progress=False)  # fmt: skip
    hold = tmp_path / "hold"
    hold.touch()
    env = {
        "TRAINLAB_STUDY_STORAGE": storage,
        "JOB_COMPLETION_INDEX": "3",
        "TUNE_FNS_WAIT": str(hold),
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }
    proc = subprocess.Popen(
        [TRAINLAB, "tune-worker", "--study", "p"], env={**os.environ, **env}, cwd=tmp_path,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip

    def trials(status: str) -> list[Any]:
        found = trainlab.search_runs("pods", f"attributes.status = '{status}'", output="list",
                                     tracking_uri=uri)  # fmt: skip
        assert isinstance(found, list)
        return [r for r in found if r.info.run_name.startswith("trial-")]

    try:
        deadline = time.monotonic() + 120
        while not trials("RUNNING"):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the slot's trial did not start within 120 s"
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 143, err
    assert "Traceback" not in err, err
    assert "slot 3: interrupted (SIGTERM); its trial's run ended KILLED" in one_line(err), err
    (killed,) = trials("KILLED")
    assert killed.info.end_time
    # Kubernetes runs the index again: the slot's trial is tried again, with the same params.
    hold.unlink()
    again = subprocess.run(
        [TRAINLAB, "tune-worker", "--study", "p"], env={**os.environ, **env}, cwd=tmp_path,
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert "slot 3: COMPLETE" in again.stdout
    retried = [r for r in trials("FINISHED") if r.data.params == killed.data.params]
    assert len(retried) == 1, [r.data.params for r in trials("FINISHED")]


SCRIPT = """
import trainlab

def objective(params, ctx):
    return (params["x"] - 1) ** 2

if __name__ == "__main__":
    result = trainlab.tune(fn=objective, space={"x": {"type": "float", "low": -3, "high": 3}},
                           metric="loss", direction="minimize", trials=6, workers=2,
                           experiment="script", study="s", storage="journal:s.journal",
                           tracking_uri="sqlite:///t.db", progress=False)
    print("complete", result.summary.counts["complete"])
"""


def test_workers_run_a_function_of_the_script_being_run(tmp_path: Path) -> None:
    (tmp_path / "search.py").write_text(SCRIPT)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRAINLAB_")}
    env["TRAINLAB_SPOOL_DIR"] = str(tmp_path / "spool")
    # The study names its store; a different one in the shell must not divert the workers.
    env["TRAINLAB_TRACKING_URI"] = f"sqlite:///{tmp_path}/elsewhere.db"
    proc = subprocess.run(
        [str(Path(TRAINLAB).with_name("python")), "search.py"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "complete 6" in proc.stdout
    assert proc.stdout.count("complete") == 1  # the workers did not run the __main__ block
    trials = trainlab.search_runs("script", "tags.`trainlab.study` = 's'", output="list",
                                  tracking_uri=f"sqlite:///{tmp_path}/t.db")  # fmt: skip
    assert len(trials) == 7  # the study's run and its six trials
    assert not (tmp_path / "elsewhere.db").exists()


def test_a_worker_that_exits_with_an_error_stops_the_study(tmp_path: Path) -> None:
    from tests.support.tune_fns import exits

    with pytest.raises(trainlab.exceptions.TrainlabError, match="exited with code 3"):
        trainlab.tune(fn=exits, space={"x": {"type": "float", "low": 0, "high": 1}},
                      metric="v", trials=4, workers=2, experiment="exits",
                      storage=f"journal:{tmp_path}/s.journal",
                      tracking_uri=f"sqlite:///{tmp_path}/t.db", progress=False)  # fmt: skip
    (parent,) = trainlab.search_runs("exits", "tags.`trainlab.study.role` = 'parent'",
                                     output="list", tracking_uri=f"sqlite:///{tmp_path}/t.db")  # type: ignore[misc]  # fmt: skip
    assert parent.info.status == "FAILED"


@pytest.mark.parametrize("flags", [("--trials", "0"), ("--workers", "0")])
def test_a_count_below_one_is_refused(tmp_path: Path, flags: tuple[str, str]) -> None:
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(BOOSTED))
    proc = cli(
        "tune", "p.yaml", *flags, "--tracking-uri", f"sqlite:///{tmp_path}/t.db", cwd=tmp_path
    )
    assert proc.returncode == 2, proc.stderr
    assert f"Invalid value for '{flags[0]}'" in proc.stderr
    assert "greater than or equal to 1" in proc.stderr
    assert not (tmp_path / "trainlab-studies").exists()


def test_list_valued_choices_reach_the_function_as_lists(tmp_path: Path) -> None:
    """`hidden: {type: categorical, choices: [[32], [64, 32]]}`, as a network's layer sizes:
    Optuna takes no lists; the study crashed in its parameter importances after every trial."""
    from tests.support.tune_fns import layers

    uri = f"sqlite:///{tmp_path}/t.db"
    result = trainlab.tune(
        fn=layers,
        space={
            "hidden": {"type": "categorical", "choices": [[32], [64, 32], [128, 64, 32]]},
            "x": {"type": "float", "low": 0, "high": 1},
        },
        metric="loss", direction="minimize", trials=8, experiment="layers",
        storage=f"journal:{tmp_path}/s.journal", tracking_uri=uri, progress=False,
    )  # fmt: skip
    assert "hidden" in result.summary.importances  # the step that crashed
    runs = trainlab.search_runs("layers", output="list", tracking_uri=uri)
    trials = [r for r in runs if r.info.run_name.startswith("trial-")]
    assert len(trials) == 8 and all(r.info.status == "FINISHED" for r in trials)
    chosen = [json.loads(r.data.params["hidden"]) for r in trials]
    assert {str(c) for c in chosen} <= {"[32]", "[64, 32]", "[128, 64, 32]"}
    assert result.summary.best[0].values == [min(len(c) for c in chosen)]


def test_resuming_a_study_its_process_still_runs_is_refused(tmp_path: Path) -> None:
    """The second `--resume` took the running trials for abandoned and failed them: the first
    process then crashed with Optuna's 'Trial#0 has already finished'."""
    from tests.support.tune_fns import slow_curve

    uri = f"sqlite:///{tmp_path}/t.db"
    storage = f"journal:{tmp_path}/s.journal"
    env = script_env(tmp_path)
    options = (
        "space={'x': {'type': 'float', 'low': -4, 'high': 4}}, metric='loss', "
        "direction='minimize', pruner='none', experiment='live', study='live', "
        f"storage={storage!r}, tracking_uri={uri!r}, progress=False"
    )
    script = f"import trainlab\nfrom tests.support.tune_fns import slow_curve\n" \
        f"trainlab.tune(fn=slow_curve, trials=6, {options})\n"  # fmt: skip
    driver = subprocess.Popen([str(Path(TRAINLAB).with_name("python")), "-c", script], env=env,
                              cwd=tmp_path, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while finished_trials(storage, "live") < 1:
            assert driver.poll() is None, driver.communicate()
            assert time.monotonic() < deadline, "no trial finished within 60 s"
            time.sleep(0.1)
        with pytest.raises(trainlab.exceptions.InvalidState, match=f"process {driver.pid} "):
            trainlab.tune(
                fn=slow_curve, space={"x": {"type": "float", "low": -4, "high": 4}},
                metric="loss", direction="minimize", pruner="none", trials=6, resume=True,
                experiment="live", study="live", storage=storage, tracking_uri=uri,
                progress=False,
            )  # fmt: skip
        _, err = driver.communicate(timeout=120)
    finally:
        if driver.poll() is None:
            driver.kill()
    assert driver.returncode == 0, err
    assert finished_trials(storage, "live") == 6


def test_tuning_on_a_training_score_warns(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from trainlab.training.spec import parse_spec
    from trainlab.tuning.tuner import plan_pipeline

    config = json.loads(json.dumps(BOOSTED))
    config["tune"]["metric"] = "train_f1_macro"
    uri = f"sqlite:///{tmp_path}/t.db"
    plan_pipeline(parse_spec(config), uri, None, f"sqlite:///{tmp_path}/s.db")
    assert "tune.metric 'train_f1_macro' scores the rows each trial is fitted on" in caplog.text


def test_a_pipeline_that_registers_registers_the_best_trial_once(tmp_path: Path) -> None:
    """Its trials register nothing: the study registers its best trial's model, and a resumed
    study whose best stayed does not register it again."""
    uri = f"sqlite:///{tmp_path}/t.db"
    pipeline = {
        "experiment": "reg",
        "data": {"source": "sklearn:iris", "target": "target",
                 "split": {"test": 0.2, "valid": 0.2, "seed": 1}},
        "model": {"flavor": "sklearn", "class": "sklearn.linear_model.LogisticRegression",
                  "params": {"max_iter": 200}},
        "metrics": ["accuracy"],
        "register": {"name": "iris-tuned"},
        "tune": {"metric": "valid_accuracy", "direction": "maximize", "sampler": "random",
                 "seed": 3, "space": {"C": {"type": "float", "low": 0.01, "high": 9, "log": True}}},
    }  # fmt: skip
    options: dict[str, Any] = {"study": "reg", "storage": f"journal:{tmp_path}/s.journal"}
    options |= {"tracking_uri": uri, "progress": False}
    first = trainlab.tune(pipeline, trials=3, **options)
    best = first.summary.best[0]
    assert first.registered == (best.number, "iris-tuned", 1)
    registry = trainlab.client.resolve.registry_for(trainlab.client.resolve.store_for(uri))
    (version,) = registry.search_model_versions("name = 'iris-tuned'")
    assert version.run_id == best.run_id
    again = trainlab.tune(pipeline, trials=3, resume=True, **options)  # nothing left to run
    assert again.registered == first.registered
    assert len(registry.search_model_versions("name = 'iris-tuned'")) == 1
