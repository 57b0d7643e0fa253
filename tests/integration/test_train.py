"""``trainlab train`` and ``trainlab.train`` end to end on bundled data, against the embedded
store and a real server: every flavor, and each recorded field checked by value."""

from __future__ import annotations

import json
import logging
import os
import platform
import re
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from tests.integration.test_cli import cli, one_line
from tests.unit.client.test_fluent import (  # noqa: F401 - fixtures used by pytest here
    close_store,
    experiment_fixture,
    isolated_sdk,
    reset_sdk,
)
from tests.unit.client.test_fluent import history as metric_history

import trainlab
from trainlab.client.resolve import store_for
from trainlab.client.rest_logged_models import logged_models_for
from trainlab.exceptions import InvalidParameterValue, ResourceNotFound
from trainlab.training.data import prepare
from trainlab.training.spec import parse_spec

# Training functions, written beside a pipeline as a module of the user's own.
TRAINING_FNS = (Path(__file__).resolve().parents[1] / "support" / "training_fns.py").read_text()


def pipeline(**changes: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "experiment": "wine",
        "data": {
            "source": "sklearn:wine",
            "target": "target",
            "split": {"test": 0.2, "valid": 0.2, "seed": 7, "stratify": True},
        },
        "model": {
            "flavor": "sklearn",
            "class": "sklearn.ensemble.RandomForestClassifier",
            "params": {"n_estimators": 20, "max_depth": 4},
        },
        "train": {"seed": 7, "system_metrics_interval_s": 0.05},
        "metrics": ["accuracy", "f1_macro", "roc_auc"],
    }
    for key, value in changes.items():
        config[key] = value
    return config


def history(uri: str, run_id: str, key: str) -> list[tuple[int, float]]:
    return sorted((m.step, m.value) for m in metric_history(uri, run_id, key))


def run_count(uri: str) -> int:
    store = store_for(uri)
    try:
        ids = [e.experiment_id for e in store.search_experiments()]
        return len(store.search_runs(ids, "", max_results=10))
    finally:
        close_store(store)


def check_recorded(uri: str, run_id: str, config: dict[str, Any]) -> Any:
    """The fields every run records, by value."""
    run = trainlab.get_run(run_id, tracking_uri=uri)
    spec = parse_spec(config)
    data = prepare(spec.data)
    for name, split in data.splits.items():
        assert run.data.tags[f"trainlab.data.{name}.digest"] == split.fingerprint.digest
        assert run.data.tags[f"trainlab.data.{name}.rows"] == str(len(split.X))
    inputs = {d.tags["mlflow.data.context"]: d.dataset for d in run.inputs.dataset_inputs}
    assert sorted(inputs) == sorted(data.splits)
    assert inputs["test"].digest == data.splits["test"].fingerprint.digest[:16]
    assert json.loads(inputs["test"].profile or "{}")["num_rows"] == len(data.splits["test"].X)
    for key, value in spec.model.params.items():
        assert run.data.params[f"model.{key}"] == str(value)
    assert run.data.params["train.seed"] == str(spec.train.seed)
    assert run.data.tags["trainlab.env.python.version"] == platform.python_version()
    assert 0 < run.data.metrics["training_time_s"].value < 600
    assert run.data.metrics["peak_memory_mb"].value > 10
    cpu = run.data.metrics["system/cpu_utilization_percentage"].value
    assert 0 <= cpu <= 100 * (os.cpu_count() or 1)
    config_back = yaml.safe_load(
        Path(trainlab.download_artifacts(run_id, "pipeline.yaml", tracking_uri=uri)).read_text()
    )
    assert config_back == spec.to_config()
    env = json.loads(
        Path(
            trainlab.download_artifacts(run_id, "environment/environment.json", tracking_uri=uri)
        ).read_text()
    )
    assert env["python.version"] == platform.python_version()
    reqs = Path(
        trainlab.download_artifacts(run_id, "environment/requirements.txt", tracking_uri=uri)
    ).read_text()
    assert f"numpy=={np.__version__}" in reqs.splitlines()
    # The logged model reproduces the test metrics it was scored with.
    model = trainlab.load_model(f"runs:/{run_id}/model", tracking_uri=uri)
    test = data.splits["test"]
    return run, model, test


def test_cli_trains_tracks_and_registers(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path}/t.db"
    config = pipeline(register={"name": "wine-rf"})
    (tmp_path / "pipeline.yaml").write_text(yaml.safe_dump(config))
    proc = cli("train", "pipeline.yaml", "--tracking-uri", uri, "--no-progress", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = one_line(proc.stdout)
    run_id = out.split("run ", 1)[1].split()[0]
    assert "models:/wine-rf/1" in out and f"trainlab runs show {run_id}" in out
    run, model, test = check_recorded(uri, run_id, config)
    from sklearn.metrics import accuracy_score

    acc = accuracy_score(test.y, model.predict(test.X))
    assert run.data.metrics["test_accuracy"].value == pytest.approx(acc)
    assert f"{acc:.6g}" in out  # the result table shows it
    curve = history(uri, run_id, "valid_accuracy")
    assert [s for s, _ in curve] == list(range(20))  # 20 growth stages of 1 tree
    assert history(uri, run_id, "n_estimators")[-1] == (19, 20.0)
    version = trainlab.load_model("models:/wine-rf/1", tracking_uri=uri)
    np.testing.assert_array_equal(version.predict(test.X), model.predict(test.X))


def test_git_commit_branch_and_diff_are_recorded(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git = lambda *a: subprocess.run(  # noqa: E731
        ["git", *a], cwd=repo, check=True, capture_output=True, text=True
    ).stdout.strip()
    git("init", "-q", "-b", "main")
    git("config", "user.email", "t@example.com")
    git("config", "user.name", "t")
    (repo / "train.py").write_text("print('v1')\n")
    git("add", "train.py")
    git("commit", "-q", "-m", "v1")
    (repo / "train.py").write_text("print('v2')\n")
    (repo / "pipeline.yaml").write_text(yaml.safe_dump(pipeline()))
    uri = f"sqlite:///{tmp_path}/t.db"
    proc = cli("train", "pipeline.yaml", "--tracking-uri", uri, "--no-progress", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    run_id = one_line(proc.stdout).split("run ", 1)[1].split()[0]
    run = trainlab.get_run(run_id, tracking_uri=uri)
    assert run.data.tags["mlflow.source.git.commit"] == git("rev-parse", "HEAD")
    assert run.data.tags["mlflow.source.git.branch"] == "main"
    assert run.data.tags["trainlab.git.dirty"] == "True"
    diff = Path(
        trainlab.download_artifacts(run_id, "code/uncommitted.diff", tracking_uri=uri)
    ).read_text()
    assert "+print('v2')" in diff and "pipeline.yaml" in diff


FLAVORS = {
    "xgboost": {
        "flavor": "xgboost",
        "class": "xgboost.XGBClassifier",
        "params": {"n_estimators": 200, "max_depth": 2, "learning_rate": 0.3},
    },
    "lightgbm": {
        "flavor": "lightgbm",
        "class": "lightgbm.LGBMClassifier",
        "params": {"n_estimators": 200, "num_leaves": 4, "min_child_samples": 5},
    },
    "sklearn-boosting": {
        "flavor": "sklearn",
        "class": "sklearn.ensemble.GradientBoostingClassifier",
        "params": {"n_estimators": 200, "max_depth": 2},
    },
    "pytorch": {
        "flavor": "pytorch",
        "class": "tests.support.training_fns.Net",
        "params": {"hidden": 8},
    },
}
STOP_ON = {
    "xgboost": "valid_mlogloss",
    "lightgbm": "valid_multi_logloss",
    "sklearn-boosting": "valid_logloss",
    "pytorch": "valid_loss",
}


@pytest.mark.parametrize("backend", ["embedded", "server"])
@pytest.mark.parametrize("flavor", list(FLAVORS))
def test_each_flavor_reports_curves_and_stops_early(
    tmp_path: Path, flavor: str, backend: str, request: pytest.FixtureRequest
) -> None:
    if backend == "server":
        uri = str(request.getfixturevalue("server").url)
    else:
        uri = f"sqlite:///{tmp_path}/t.db"
    metric = STOP_ON[flavor]
    train = {
        "seed": 7,
        "system_metrics_interval_s": 0.05,
        "epochs": 300,
        "lr": 0.01,
        "early_stopping": {"metric": metric, "patience": 5},
    }
    config = pipeline(model=FLAVORS[flavor], train=train)
    config["experiment"] = f"wine-{flavor}-{backend}"
    if flavor == "pytorch":  # unscaled wine features: keep the net honest but quick
        config["metrics"] = ["accuracy", "f1_macro"]
    result = trainlab.train(config, tracking_uri=uri, progress=False)
    run, model, test = check_recorded(uri, result.run_id, config)
    curve = history(uri, result.run_id, metric)
    steps = [s for s, _ in curve]
    assert steps == list(range(len(steps))), "every iteration exactly once"
    limit = 300 if flavor == "pytorch" else 200
    assert 5 < len(steps) < limit, "stopped early"
    best = int(run.data.metrics["best_iteration"].value)
    values = [v for _, v in curve]
    assert values[best] == min(values)
    assert len(steps) - 1 - best >= 5  # patience ran out after the best point
    pred = np.asarray(model.predict(test.X))  # a network gets the float64 table as float32
    if flavor == "pytorch":
        pred = pred.argmax(1)  # the logged module returns logits
    from sklearn.metrics import accuracy_score

    assert run.data.metrics["test_accuracy"].value == pytest.approx(accuracy_score(test.y, pred))


def test_a_forest_that_stops_early_is_the_forest_of_its_best_stage(tmp_path: Path) -> None:
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.metrics import accuracy_score

    from trainlab.training.adapters import growth_sizes

    uri = f"sqlite:///{tmp_path}/t.db"
    model = {
        "flavor": "sklearn",
        "class": "sklearn.ensemble.RandomForestClassifier",
        "params": {"n_estimators": 200, "max_depth": 3},
    }
    # No later stage improves by 0.5: the first stage is the best, the third stops.
    stop = {"metric": "valid_logloss", "patience": 2, "min_delta": 0.5}
    config = pipeline(model=model, train={"seed": 7, "early_stopping": stop})
    result = trainlab.train(config, tracking_uri=uri, progress=False)
    run, forest, test = check_recorded(uri, result.run_id, config)
    assert int(run.data.metrics["best_iteration"].value) == 0
    assert len(history(uri, result.run_id, "valid_logloss")) == 3
    raw = forest.get_raw_model()
    assert len(raw.estimators_) == growth_sizes(200)[0] == 10
    grown = RandomForestClassifier(n_estimators=10, max_depth=3, random_state=7)
    train_split = prepare(parse_spec(config).data).splits["train"]
    grown.fit(train_split.X, train_split.y)
    assert (raw.predict_proba(test.X) == grown.predict_proba(test.X)).all()
    accuracy = accuracy_score(test.y, forest.predict(test.X))
    assert run.data.metrics["test_accuracy"].value == pytest.approx(accuracy)


def test_python_function_and_cross_validation(tmp_path: Path) -> None:
    from tests.support.training_fns import fit_ridge

    uri = f"sqlite:///{tmp_path}/t.db"
    data = {"source": "sklearn:diabetes", "target": "target", "split": {"test": 0.2, "valid": 0.2}}
    result = trainlab.train(
        fn=fit_ridge,
        data=data,
        params={"alphas": [10.0, 1.0, 0.1]},
        overrides=["train.cv=3", "train.system_metrics_interval_s=0.05"],
        experiment="diabetes",
        tracking_uri=uri,
        progress=False,
    )
    assert result.task == "regression"
    run = trainlab.get_run(result.run_id, tracking_uri=uri)
    assert run.data.params["model.class"] == "tests.support.training_fns.fit_ridge"
    assert [s for s, _ in history(uri, result.run_id, "valid_mse")] == [0, 1, 2]
    folds = [v for _, v in history(uri, result.run_id, "cv_rmse")]
    assert len(folds) == 3
    assert run.data.metrics["cv_rmse_mean"].value == pytest.approx(np.mean(folds))
    assert run.data.metrics["cv_rmse_std"].value == pytest.approx(np.std(folds))
    assert {"test_rmse", "test_mae", "test_r2"} <= set(run.data.metrics)


def test_a_function_returning_its_own_model_class(tmp_path: Path) -> None:
    """Any framework: the returned object is logged as it is (cloudpickled) and loads back."""
    from tests.support.training_fns import fit_own_model

    uri = f"sqlite:///{tmp_path}/t.db"
    data = {"source": "sklearn:wine", "target": "target", "split": {"test": 0.2, "valid": 0.2}}
    result = trainlab.train(
        fn=fit_own_model, data=data, params={"rate": 0.5}, tracking_uri=uri, progress=False
    )
    assert [s for s, _ in history(uri, result.run_id, "valid_loss")] == list(range(6))
    assert result.model_uri is not None and result.metrics["test_accuracy"] > 0.5
    model = trainlab.load_model(result.model_uri, tracking_uri=uri)
    assert type(model.get_raw_model()).__name__ == "NearestMean"
    # The model's scores are linked to it, so a logged-model search filters on them.
    models = logged_models_for(store_for(uri))
    found = models.search_logged_models([result.experiment_id], "metrics.test_accuracy > 0.5")
    assert [f"models:/{m.model_id}" for m in found] == [result.model_uri]
    linked = {m.key: m.value for m in found[0].metrics}
    assert linked["test_accuracy"] == result.metrics["test_accuracy"]
    again = trainlab.train(fn=fit_own_model, data=data, tracking_uri=uri, progress=False)
    assert again.metrics["test_accuracy"] == result.metrics["test_accuracy"]  # same seed


def test_a_training_function_is_checked(tmp_path: Path) -> None:
    """What fn is and returns: a clear error, naming the fix; a pipeline file with fn trains
    fn on the file's data."""
    from tests.support.training_fns import fit_forgetting_to_return, fit_own_model

    uri = f"sqlite:///{tmp_path}/t.db"
    data = {"source": "sklearn:wine", "target": "target", "split": {"test": 0.2, "valid": 0.2}}
    for fn, message in (
        (3, "fn must be a training function fn(params, ctx), not int"),
        (lambda p, c: None, "define the training function with def at the top level"),
    ):
        with pytest.raises(InvalidParameterValue, match=re.escape(message)):
            trainlab.train(fn=fn, data=data, tracking_uri=uri, progress=False)  # type: ignore[arg-type]
    assert not (tmp_path / "t.db").exists()  # refused before anything was made
    returned = "fit_forgetting_to_return returned None, which has no predict method: return"
    with pytest.raises(InvalidParameterValue, match=returned):
        trainlab.train(fn=fit_forgetting_to_return, data=data, tracking_uri=uri, progress=False)
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(pipeline(data=data)))
    result = trainlab.train(tmp_path / "p.yaml", fn=fit_own_model, tracking_uri=uri, progress=False)
    run = trainlab.get_run(result.run_id, tracking_uri=uri)
    assert run.data.params["model.class"] == "tests.support.training_fns.fit_own_model"


def test_against_a_server(server: Any, tmp_path: Path) -> None:
    uri = str(server.url)
    config = pipeline(model=FLAVORS["xgboost"] | {"params": {"n_estimators": 10, "max_depth": 2}})
    config["train"] |= {"checkpoint_every": 3, "keep_checkpoints": 1}
    result = trainlab.train(config, experiment="wine-server", tracking_uri=uri, progress=False)
    assert result.checkpoints == 3  # after steps 2, 5 and 8; the last (9) needs none
    listed = trainlab.list_artifacts(result.run_id, "checkpoints", tracking_uri=uri)
    assert sorted(f.path for f in listed) == [
        "checkpoints/latest.json",
        "checkpoints/step-00000008",
    ]
    run, model, test = check_recorded(uri, result.run_id, config | {"experiment": "wine-server"})
    assert [s for s, _ in history(uri, result.run_id, "valid_mlogloss")] == list(range(10))
    assert run.data.metrics["test_accuracy"].value == pytest.approx(
        float(np.mean(model.predict(test.X) == test.y))
    )
    # the server's database opened directly cannot store this experiment's model: refused
    # before any run exists
    direct = server.backend_store_uri
    before = len(trainlab.search_runs("wine-server", output="list", tracking_uri=uri))
    with pytest.raises(InvalidParameterValue, match="keeps its artifacts on a trainlab server"):
        trainlab.train(config, experiment="wine-server", tracking_uri=direct, progress=False)
    assert len(trainlab.search_runs("wine-server", output="list", tracking_uri=uri)) == before


def test_overlapping_rows_are_detected(tmp_path: Path) -> None:
    import pandas as pd
    from sklearn.datasets import load_iris

    frame = load_iris(as_frame=True).frame
    pd.concat([frame, frame.head(30)]).to_csv(tmp_path / "dup.csv", index=False)
    config = pipeline(data={"source": str(tmp_path / "dup.csv"), "target": "target"})
    config["model"]["params"] = {"n_estimators": 3}
    result = trainlab.train(config, tracking_uri=f"sqlite:///{tmp_path}/t.db", progress=False)
    assert sum(result.overlaps.values()) > 0
    run = trainlab.get_run(result.run_id, tracking_uri=f"sqlite:///{tmp_path}/t.db")
    assert run.data.metrics["data_overlap_train_test"].value == result.overlaps["train/test"]


BAD = [
    ({"modle": {}}, "modle: unknown key"),
    ({"data": {"source": "sklearn:wine"}}, "data.target: Field required"),
    (
        {
            "data": {
                "source": "sklearn:wine",
                "target": "target",
                "split": {"test": 0.6, "valid": 0.5},
            }
        },
        "must leave rows to train on",
    ),
    ({"metrics": ["acc"]}, "metrics: unknown metric(s) ['acc']"),
    ({"metrics": ["rmse"]}, "metrics ['rmse'] do not apply to a target of 3 classes"),
    ({"metrics": ["f1"]}, "metrics ['f1'] do not apply to a target of 3 classes ('target'); use"),
    (
        {"model": {"flavor": "sklearn", "class": "sklearn.ensemble.NoSuchForest"}},
        "'sklearn.ensemble' has no 'NoSuchForest'",
    ),
    (
        {
            "model": {
                "flavor": "sklearn",
                "class": "sklearn.ensemble.RandomForestClassifier",
                "params": {"n_trees": 3},
            }
        },
        "model.params ['n_trees']",
    ),
    (  # a booster param XGBoost would ignore (it takes any name and only warns when it trains)
        {
            "model": {
                "flavor": "xgboost",
                "class": "xgboost.XGBClassifier",
                "params": {"n_trees": 3, "max_depth": 2, "eta": 0.3},
            }
        },
        "model.params ['n_trees']: xgboost.XGBClassifier does not use it",
    ),
    (
        {
            "model": {
                "flavor": "lightgbm",
                "class": "lightgbm.LGBMClassifier",
                "params": {"n_trees": 3, "num_leaves": 7, "feature_fraction": 0.9},
            }
        },
        "model.params ['n_trees']: lightgbm.LGBMClassifier does not use it",
    ),
    (  # a value the booster refuses when it starts, given by an alias
        {"model": {"flavor": "xgboost", "class": "xgboost.XGBClassifier", "params": {"gamma": -1}}},
        "xgboost.XGBClassifier: min_split_loss = -1: it should be greater equal to 0",
    ),
    (
        {
            "model": {
                "flavor": "lightgbm",
                "class": "lightgbm.LGBMClassifier",
                "params": {"num_leaves": -3},
            }
        },
        "lightgbm.LGBMClassifier: num_leaves = -3: it must be > 1",
    ),
    (  # a value scikit-learn would refuse only when it fits
        {
            "model": {
                "flavor": "sklearn",
                "class": "sklearn.ensemble.RandomForestClassifier",
                "params": {"n_estimators": 20, "max_depth": -3},
            }
        },
        "The 'max_depth' parameter of RandomForestClassifier must be an int in the range",
    ),
    (  # --set model.params.n_estimators=many
        {
            "model": {
                "flavor": "xgboost",
                "class": "xgboost.XGBClassifier",
                "params": {"n_estimators": "many", "max_depth": 2},
            }
        },
        "model.params.n_estimators: 'many' is not a number of boosting rounds",
    ),
    ({"model": {"flavor": "tensorflow", "class": "a.B"}}, "model.flavor: Input should be"),
    (  # --set model.flavor=xgboost on a forest's pipeline
        {"model": {"flavor": "xgboost", "class": "sklearn.ensemble.RandomForestClassifier"}},
        "model.class 'sklearn.ensemble.RandomForestClassifier' is not an XGBoost model: "
        "model.flavor xgboost trains xgboost.XGBClassifier, xgboost.XGBRegressor. Use "
        "model.flavor: sklearn for it.",
    ),
    (
        {"model": {"flavor": "lightgbm", "class": "xgboost.XGBClassifier"}},
        "is not a LightGBM model: model.flavor lightgbm trains lightgbm.LGBMClassifier, "
        "lightgbm.LGBMRegressor. Use model.flavor: xgboost for it.",
    ),
    (
        {"model": {"flavor": "pytorch", "class": "sklearn.ensemble.RandomForestClassifier"}},
        "is not a torch.nn.Module: model.flavor pytorch trains networks. Use model.flavor: "
        "sklearn for it.",
    ),
    (
        {"model": {"flavor": "sklearn", "class": "trainlab.training.nets.TabularMLP"}},
        "is not a scikit-learn estimator (a torch.nn.Module). Use model.flavor: pytorch",
    ),
    ({"data": {"source": "sklearn:wine", "target": "quality"}}, "data.target 'quality'"),
    (
        {"data": {"source": "missing.csv", "target": "y"}},
        "'missing.csv': no such file (relative to the current folder, ",
    ),
    ({"data": {"source": "/tmp", "target": "y"}}, "data.source '/tmp': a folder, not a file."),
    ({"train": {"cv": 1}}, "train.cv: Input should be greater than or equal to 2"),
    ({"register": "wine"}, "register: expected keys and values, got 'wine', e.g. register: {name"),
    (
        {"train": {"early_stopping": {"metric": "valid_logloss", "patience": 0}}},
        "train.early_stopping.patience",
    ),
    ({"train": {"checkpoint_every": 0}}, "train.checkpoint_every: Input should be greater"),
    (
        {
            "data": {"source": "sklearn:wine", "target": "target", "split": {"valid": 0}},
            "train": {"early_stopping": {"metric": "valid_logloss", "patience": 3}},
        },
        "train.early_stopping needs a valid split",
    ),
    (
        {
            "model": {
                "flavor": "pytorch",
                "class": "trainlab.training.nets.TabularMLP",
                "params": {"hidden": [0]},
            }
        },
        "model.params for trainlab.training.nets.TabularMLP: hidden must be positive",
    ),
    (
        {
            "data": {"source": "labels.csv", "target": "kind"},  # written by the test
            "model": {"flavor": "pytorch", "class": "trainlab.training.nets.TabularMLP"},
        },
        "data.target 'kind' has the labels 'k0', 'k1', 'k2'; model.flavor pytorch needs class "
        "labels 0..K-1. Encode them in the data (e.g. {'k0': 0, 'k1': 1, 'k2': 2}), or train a "
        "scikit-learn model (model.flavor sklearn), which takes any labels.",
    ),
    (
        {
            "data": {"source": "labels.csv", "target": "kind"},
            "model": {"flavor": "xgboost", "class": "xgboost.XGBClassifier"},
        },
        "model.flavor xgboost needs class labels 0..K-1",
    ),
    (
        {
            "data": {"source": "labels.csv", "target": "kind"},
            "model": {"flavor": "lightgbm", "class": "lightgbm.LGBMClassifier"},
        },
        "model.flavor lightgbm needs numeric class labels",
    ),
    (  # written by the test: a text column, a column with gaps
        {"data": {"source": "mixed.csv", "target": "y"}},
        "data.features: column 'city' holds values that are not numbers (e.g. 'oslo'); "
        "model.flavor sklearn trains on numbers. Encode them in the data (text: one column per "
        "category, or a code; dates: a number such as days since a start), or leave them out "
        "with data.features.",
    ),
    (
        {
            "data": {
                "source": "mixed.csv",
                "target": "y",
                "features": ["x"],
                "split": {"test": 0.2, "valid": 0.2, "group": "gap"},
            }
        },
        "data.split.group 'gap' has 10 missing values; every row needs a group.",
    ),
    (
        {"data": {"source": "mixed.csv", "target": "gap", "features": ["x"]}},
        "data.target 'gap' has 10 missing values (rows 0, 3, 6, 9, 12, ..., counting the first "
        "data row as 0): a row without a label can be neither trained nor scored on. Drop those "
        "rows from the data, or fill in their labels.",
    ),
    (
        {
            "data": {
                "source": "mixed.csv",
                "target": "y",
                "features": ["x"],
                "split": {"test": 0.2, "valid": 0.2, "group": "city"},
            }
        },
        "data.split.group 'city' has 2 group(s); a split by group needs at least 3 (one for "
        "each of train, valid and test).",
    ),
    (
        {
            "data": {"source": "mixed.csv", "target": "y", "features": ["x", "gap"]},
            "model": {"flavor": "pytorch", "class": "trainlab.training.nets.TabularMLP"},
        },
        "data.features: missing values in 'gap' (10 rows); a network (model.flavor pytorch) "
        "trains on complete rows, or its loss is NaN.",
    ),
    (  # written by the test: class 2 only in the last row, which a split by time puts in test
        {
            "data": {
                "source": "rare.csv",
                "target": "y",
                "split": {"test": 0.2, "valid": 0.2, "time": "t"},
            }
        },
        "data.split: class 2 is in the test split (1 of its 1 rows) but not in train: the "
        "model never learns it, so it cannot be scored there. A split by time cannot spread "
        "rows by class: merge or drop classes this rare in the data.",
    ),
    (  # written by the test: every label 0
        {"data": {"source": "one.csv", "target": "y"}},
        "data.target 'y': every row in the data has class 0; a classifier learns from two "
        "classes or more.",
    ),
    (  # written by the test: an infinite value in column z
        {"data": {"source": "inf.csv", "target": "y"}},
        "data.features: infinite values in 'z'; no model trains on them.",
    ),
    ({"data": {"source": "empty.csv", "target": "y"}}, "data.source 'empty.csv' holds no rows."),
    (
        {
            "data": {"source": "rare.csv", "target": "y", "split": {"stratify": True}},
            "model": {"flavor": "sklearn", "class": "sklearn.linear_model.Ridge"},
        },
        "data.split.stratify needs a classification task (model.class Ridge is a regressor)",
    ),
]


@pytest.mark.parametrize(("change", "message"), BAD, ids=[m for _, m in BAD])
def test_config_errors_are_precise_and_log_nothing(
    tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    uri = f"sqlite:///{tmp_path}/t.db"
    (tmp_path / "labels.csv").write_text("x,kind\n" + "".join(f"{i},k{i % 3}\n" for i in range(30)))
    rows = [f"{i},{('rome', 'oslo')[i % 2]},{'' if i % 3 == 0 else i},{i % 2}\n" for i in range(30)]
    (tmp_path / "mixed.csv").write_text("x,city,gap,y\n" + "".join(rows))
    rare = [f"{i},{i * 0.5},{2 if i == 29 else i % 2}\n" for i in range(30)]
    (tmp_path / "rare.csv").write_text("t,x,y\n" + "".join(rare))
    (tmp_path / "one.csv").write_text("x,y\n" + "".join(f"{i},0\n" for i in range(30)))
    inf = [f"{i},{'inf' if i == 7 else i},{i % 2}\n" for i in range(30)]
    (tmp_path / "inf.csv").write_text("x,z,y\n" + "".join(inf))
    (tmp_path / "empty.csv").write_text("x,y\n")
    (tmp_path / "pipeline.yaml").write_text(yaml.safe_dump(pipeline(**change)))
    proc = cli("train", "pipeline.yaml", "--tracking-uri", uri, "--no-progress", cwd=tmp_path)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert message in one_line(proc.stderr), proc.stderr
    assert not (tmp_path / "t.db").exists() or run_count(uri) == 0


@pytest.mark.parametrize("labels", [("no", "yes"), (3, 4, 5)])
def test_a_scikit_learn_model_takes_any_class_labels(
    tmp_path: Path, labels: tuple[Any, ...]
) -> None:
    """Text labels, or numbers other than 0..K-1: every score, those from probabilities too
    (whose columns stand for the sorted labels), on every split, in folds and in curves."""
    from sklearn.datasets import load_breast_cancer, load_wine
    from sklearn.metrics import accuracy_score, f1_score, log_loss, roc_auc_score

    frame = (load_breast_cancer if len(labels) == 2 else load_wine)(as_frame=True).frame
    frame["target"] = frame["target"].map(dict(enumerate(labels)))
    frame.to_csv(tmp_path / "data.csv", index=False)
    uri = f"sqlite:///{tmp_path}/t.db"
    metrics = ["accuracy", "roc_auc", "logloss"] + (["f1"] if len(labels) == 2 else [])
    config = pipeline(
        data={"source": str(tmp_path / "data.csv"), "target": "target",
              "split": {"test": 0.2, "valid": 0.2, "seed": 7, "stratify": True}},
        train={"seed": 7, "cv": 3, "early_stopping": {"metric": "valid_logloss", "patience": 3}},
        metrics=metrics,
    )  # fmt: skip
    result = trainlab.train(config, tracking_uri=uri, progress=False)
    run, model, test = check_recorded(uri, result.run_id, config)
    assert set(model.predict(test.X)) <= set(labels)
    for name in metrics:
        assert f"cv_{name}_mean" in run.data.metrics and f"test_{name}" in run.data.metrics
    loaded = trainlab.load_model(result.model_uri, tracking_uri=uri)
    forest = loaded.get_raw_model()
    assert list(forest.classes_) == sorted(labels, key=str)
    assert loaded.signature is not None and loaded.signature.outputs is not None
    out = loaded.signature.outputs.specs[0]  # text labels: a string column, as MLflow's
    assert getattr(out, "type" if isinstance(labels[0], str) else "dtype", None) == (
        "string" if isinstance(labels[0], str) else "int64"
    )
    got = run.data.metrics
    assert got["test_accuracy"].value == pytest.approx(
        accuracy_score(test.y, forest.predict(test.X))
    )
    proba = forest.predict_proba(test.X)
    expected = log_loss(test.y, proba, labels=forest.classes_)
    assert got["test_logloss"].value == pytest.approx(expected)
    if len(labels) == 2:  # the greater label is the positive class: "yes"
        auc = roc_auc_score(test.y == "yes", proba[:, 1])
        f1 = f1_score(test.y, forest.predict(test.X), pos_label="yes")
        assert got["test_f1"].value == pytest.approx(f1)
    else:
        auc = roc_auc_score(test.y, proba, multi_class="ovr", labels=forest.classes_)
    assert got["test_roc_auc"].value == pytest.approx(auc)
    assert metric_history(uri, result.run_id, "valid_logloss")


def test_an_error_in_training_is_recorded_on_its_run(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path}/t.db"
    (tmp_path / "fns.py").write_text(TRAINING_FNS)
    model = {"flavor": "python", "class": "fns.fit_sgd_checkpointed",
             "params": {"epochs": 5, "fail_at": 2}}  # fmt: skip
    (tmp_path / "pipeline.yaml").write_text(yaml.safe_dump(pipeline(model=model)))
    proc = cli("train", "pipeline.yaml", "--tracking-uri", uri, "--no-progress", cwd=tmp_path)
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    (run,) = trainlab.search_runs("wine", output="list", tracking_uri=uri)
    run_id = run.info.run_id
    err = one_line(proc.stderr)
    assert "error: training failed: RuntimeError: crash at step 2" in err, err
    assert f"run {run_id} ended FAILED" in err
    assert f"trainlab artifacts download {run_id} error/traceback.txt -d ." in err
    assert run.info.status == "FAILED" and run.info.end_time
    assert run.data.tags["trainlab.error"] == "RuntimeError: crash at step 2"
    text = Path(
        trainlab.download_artifacts(run_id, "error/traceback.txt", tracking_uri=uri)
    ).read_text()
    assert text.startswith("Traceback") and "fit_sgd_checkpointed" in text
    assert "RuntimeError: crash at step 2" in text


def test_an_early_stopping_curve_the_model_does_not_report_fails_its_run(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path}/t.db"
    config = pipeline(
        model={"flavor": "xgboost", "class": "xgboost.XGBClassifier",
               "params": {"n_estimators": 5, "max_depth": 2}},
        train={"seed": 7, "early_stopping": {"metric": "valid_mloss", "patience": 2}},
    )  # fmt: skip
    (tmp_path / "pipeline.yaml").write_text(yaml.safe_dump(config))
    proc = cli("train", "pipeline.yaml", "--tracking-uri", uri, "--no-progress", cwd=tmp_path)
    assert proc.returncode == 1, (proc.stdout, proc.stderr)  # a run exists, and it failed
    (run,) = trainlab.search_runs("wine", output="list", tracking_uri=uri)
    err = one_line(proc.stderr)
    assert "train.early_stopping.metric 'valid_mloss' is not a curve this model reports" in err
    assert f"run {run.info.run_id} ended FAILED" in err
    assert run.info.status == "FAILED"


def test_bad_set_override_and_missing_file(tmp_path: Path) -> None:
    (tmp_path / "pipeline.yaml").write_text(yaml.safe_dump(pipeline()))
    proc = cli("train", "pipeline.yaml", "--set", "model.params", "--no-progress", cwd=tmp_path)
    assert proc.returncode == 2 and "write key.path=value" in one_line(proc.stderr)
    proc = cli("train", "nope.yaml", cwd=tmp_path)
    assert proc.returncode == 2 and "'nope.yaml' does not exist" in one_line(proc.stderr)
    proc = cli("train", str(tmp_path), cwd=tmp_path)
    assert proc.returncode == 2 and "is a folder: name the file" in one_line(proc.stderr)
    proc = cli("train", "pipeline.yaml", "--tracking-uri", "sqlite:///.", cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert "Cannot open the store 'sqlite:///.': unable to open" in one_line(proc.stderr)
    assert not (tmp_path / "trainlab.db").exists()


def test_register_model_by_logged_model_or_run(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path}/t.db"
    config = pipeline()
    config["model"]["params"] = {"n_estimators": 3}
    result = trainlab.train(config, tracking_uri=uri, progress=False)
    assert result.model_uri is not None
    assert trainlab.register_model(result.model_uri, "wine", tracking_uri=uri) == 1
    runs_uri = f"runs:/{result.run_id}/model"
    assert trainlab.register_model(runs_uri, "wine", tracking_uri=uri) == 2
    one = trainlab.load_model("models:/wine/1", tracking_uri=uri)
    two = trainlab.load_model("models:/wine/2", tracking_uri=uri)
    X = prepare(parse_spec(config).data).splits["test"].X
    np.testing.assert_array_equal(one.predict(X), two.predict(X))
    with pytest.raises(ResourceNotFound, match="no logged model named 'nope'"):
        trainlab.register_model(f"runs:/{result.run_id}/nope", "wine", tracking_uri=uri)
    with pytest.raises(InvalidParameterValue, match="use models:/m-<id> or runs:/"):
        trainlab.register_model("models:/wine/1", "copy", tracking_uri=uri)


def test_a_training_function_is_told_once_that_its_checkpoints_are_off(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from tests.support.training_fns import fit_sgd_checkpointed

    uri = f"sqlite:///{tmp_path}/t.db"
    data = {"source": "sklearn:wine", "target": "target", "split": {"test": 0.2, "valid": 0.2}}
    said = "ctx.checkpoint() saves nothing while train.checkpoint_every is not set"
    with caplog.at_level(logging.WARNING, logger="trainlab"):
        trainlab.train(fn=fit_sgd_checkpointed, data=data, params={"epochs": 4},
                       experiment="fns", tracking_uri=uri, progress=False)  # fmt: skip
    assert caplog.text.count(said) == 1, caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="trainlab"):
        trainlab.train(fn=fit_sgd_checkpointed, data=data, params={"epochs": 4},
                       experiment="fns", tracking_uri=uri, progress=False,
                       overrides=["train.checkpoint_every=2"])  # fmt: skip
    assert said not in caplog.text


@pytest.mark.parametrize(
    ("labels", "refused_by"),
    [
        ([False, True], []),
        ([0.0, 1.0], []),
        ([1, 2], ["xgboost", "pytorch"]),
        (list(range(1, 13)), ["xgboost", "pytorch"]),
        (["no", "yes"], ["xgboost", "pytorch", "lightgbm"]),
    ],
)
def test_the_labels_each_flavor_takes(
    tmp_path: Path, labels: list[Any], refused_by: list[str]
) -> None:
    """0..K-1 as integers, booleans or whole floats for every flavor; other numbers for
    LightGBM and scikit-learn; text for scikit-learn only. The refusal shows the labels in
    their order with the codes to give them."""
    import pandas as pd

    from trainlab.training.adapters import check_data

    frame = pd.DataFrame({"x": range(48), "y": [labels[i % len(labels)] for i in range(48)]})
    frame.to_parquet(tmp_path / "d.parquet")
    config = pipeline(data={"source": str(tmp_path / "d.parquet"), "target": "y"})
    data = prepare(parse_spec(config).data)
    for flavor in ("sklearn", "xgboost", "lightgbm", "pytorch"):
        if flavor not in refused_by:
            check_data(flavor, data)
            continue
        with pytest.raises(InvalidParameterValue) as err:
            check_data(flavor, data)
        codes = ", ".join(f"{v!r}: {i}" for i, v in enumerate(labels[:5]))
        assert f"(e.g. {{{codes}{', ...' if len(labels) > 5 else ''}}})" in err.value.message


def test_a_parquet_source_is_read_as_its_csv_is(tmp_path: Path) -> None:
    from sklearn.datasets import load_wine

    frame = load_wine(as_frame=True).frame
    frame.to_parquet(tmp_path / "wine.parquet")
    frame.to_csv(tmp_path / "wine.csv", index=False)
    config = pipeline()
    prepared = {}
    for name in ("wine.parquet", "wine.csv"):
        config["data"] = {**config["data"], "source": str(tmp_path / name)}
        prepared[name] = prepare(parse_spec(config).data)
    parquet, csv = prepared["wine.parquet"], prepared["wine.csv"]
    assert parquet.features == csv.features and parquet.task == csv.task == "classification"
    for split in ("train", "valid", "test"):
        assert parquet.splits[split].fingerprint == csv.splits[split].fingerprint


def test_a_diverged_network_fails_its_run_saying_why(tmp_path: Path) -> None:
    config = pipeline(
        data={"source": "sklearn:diabetes", "target": "target"},
        model={"flavor": "pytorch", "class": "trainlab.training.nets.TabularMLP",
               "params": {"hidden": [16]}},
        train={"epochs": 5, "lr": 1.0e12},
        metrics=["rmse"],
    )  # fmt: skip
    (tmp_path / "pipeline.yaml").write_text(yaml.safe_dump(config))
    uri = f"sqlite:///{tmp_path}/t.db"
    proc = cli("train", "pipeline.yaml", "--tracking-uri", uri, "--no-progress", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    message = one_line(proc.stderr)
    assert "The model predicts NaN or infinity for" in message
    assert "its training diverged" in message and "train.lr" in message
    (run,) = trainlab.search_runs("wine", output="list", tracking_uri=uri)
    assert run.info.status == "FAILED"
    assert "training diverged" in run.data.tags["trainlab.error"]
