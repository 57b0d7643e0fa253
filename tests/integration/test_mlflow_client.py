"""The stock `mlflow` client against a real `trainlab server` process."""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

mlflow = pytest.importorskip("mlflow")
from mlflow import MlflowClient  # noqa: E402
from mlflow.entities import ViewType  # noqa: E402
from mlflow.exceptions import MlflowException  # noqa: E402


@pytest.fixture
def experiment_id(server: Any) -> Iterator[str]:
    mlflow.set_tracking_uri(server.url)
    yield mlflow.set_experiment(f"compat-{uuid.uuid4().hex[:8]}").experiment_id
    while mlflow.active_run():
        mlflow.end_run()


@pytest.fixture
def tracking(server: Any, experiment_id: str) -> MlflowClient:
    return MlflowClient(server.url)


def test_fluent_logging_round_trip(tracking: MlflowClient) -> None:
    with mlflow.start_run(run_name="fluent") as run:
        mlflow.log_param("alpha", 0.5)
        mlflow.log_params({"layers": 3, "act": "relu"})
        mlflow.log_metric("loss", 1.0, step=0)
        mlflow.log_metrics({"loss": 0.5, "acc": 0.75}, step=1)
        mlflow.log_metric("weird", float("nan"))
        mlflow.set_tag("team", "vision")
        mlflow.set_tags({"stage": "dev", "owner": "bob"})
    got = tracking.get_run(run.info.run_id)
    assert got.info.status == "FINISHED" and got.info.run_name == "fluent"
    assert got.info.end_time and got.info.end_time >= got.info.start_time
    assert got.data.params == {"alpha": "0.5", "layers": "3", "act": "relu"}
    assert got.data.metrics["loss"] == 0.5 and got.data.metrics["acc"] == 0.75
    assert math.isnan(got.data.metrics["weird"])
    assert {"team": "vision", "stage": "dev", "owner": "bob"}.items() <= got.data.tags.items()
    history = tracking.get_metric_history(run.info.run_id, "loss")
    assert [(m.step, m.value) for m in history] == [(0, 1.0), (1, 0.5)]


def test_failed_run_status(tracking: MlflowClient) -> None:
    with pytest.raises(ZeroDivisionError), mlflow.start_run() as run:
        1 / 0  # noqa: B018
    assert tracking.get_run(run.info.run_id).info.status == "FAILED"


def test_nested_runs(tracking: MlflowClient) -> None:
    with mlflow.start_run() as parent, mlflow.start_run(nested=True) as child:
        mlflow.log_metric("m", 1)
    runs = mlflow.search_runs(
        filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'", output_format="list"
    )
    assert [r.info.run_id for r in runs] == [child.info.run_id]


def test_search_runs_paginated_and_dataframe(tracking: MlflowClient, experiment_id: str) -> None:
    exp_id = experiment_id
    ids = []
    for i in range(7):
        with mlflow.start_run() as run:
            mlflow.log_metric("score", i)
            mlflow.log_param("parity", "even" if i % 2 == 0 else "odd")
        ids.append(run.info.run_id)
    seen = []
    token = None
    while True:
        page = tracking.search_runs(
            [exp_id],
            "params.parity = 'even'",
            ViewType.ACTIVE_ONLY,
            2,
            ["metrics.score DESC"],
            token,
        )
        seen += [r.info.run_id for r in page]
        token = page.token
        if not token:
            break
    assert seen == [ids[6], ids[4], ids[2], ids[0]]
    df = mlflow.search_runs([exp_id], "metrics.score >= 5", order_by=["metrics.score ASC"])
    assert list(df["run_id"]) == [ids[5], ids[6]]
    assert list(df["metrics.score"]) == [5.0, 6.0]
    assert list(df["params.parity"]) == ["odd", "even"]


def test_log_input_dataset(tracking: MlflowClient) -> None:
    import pandas as pd

    df = pd.DataFrame({"x": [1, 2, 3], "y": [0, 1, 0]})
    dataset = mlflow.data.from_pandas(df, name="toy", targets="y")
    with mlflow.start_run() as run:
        mlflow.log_input(dataset, context="training")
    inputs = tracking.get_run(run.info.run_id).inputs.dataset_inputs
    assert len(inputs) == 1
    assert inputs[0].dataset.name == "toy"
    assert inputs[0].dataset.digest == dataset.digest
    assert {t.key: t.value for t in inputs[0].tags}["mlflow.data.context"] == "training"


def test_get_metric_history_long(tracking: MlflowClient) -> None:
    from mlflow.entities import Metric

    with mlflow.start_run() as run:
        for start in range(0, 3000, 1000):
            batch = [Metric("m", float(i), 1000 + i, i) for i in range(start, start + 1000)]
            tracking.log_batch(run.info.run_id, metrics=batch)
    history = tracking.get_metric_history(run.info.run_id, "m")
    assert [m.step for m in history] == list(range(3000))


def test_experiment_management(tracking: MlflowClient) -> None:
    name = f"manage-{uuid.uuid4().hex[:8]}"
    exp_id = tracking.create_experiment(name, tags={"k": "v"})
    assert tracking.get_experiment_by_name(name).tags == {"k": "v"}
    tracking.rename_experiment(exp_id, name + "-x")
    tracking.set_experiment_tag(exp_id, "k2", "v2")
    assert tracking.get_experiment(exp_id).name == name + "-x"
    tracking.delete_experiment(exp_id)
    assert tracking.get_experiment(exp_id).lifecycle_stage == "deleted"
    tracking.restore_experiment(exp_id)
    found = tracking.search_experiments(filter_string=f"name = '{name}-x'")
    assert [e.experiment_id for e in found] == [exp_id]
    assert tracking.get_experiment_by_name("does-not-exist-" + name) is None


def test_errors_surface_as_mlflow_exceptions(tracking: MlflowClient) -> None:
    with mlflow.start_run() as run:
        mlflow.log_param("p", 1)
        with pytest.raises(MlflowException) as err:
            mlflow.log_param("p", 2)
    assert err.value.error_code == "INVALID_PARAMETER_VALUE"
    assert "Changing param values is not allowed" in err.value.message
    with pytest.raises(MlflowException) as missing:
        tracking.get_run(uuid.uuid4().hex)
    assert missing.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert tracking.get_run(run.info.run_id).data.params == {"p": "1"}


def test_error_codes_match_mlflow(tracking: MlflowClient, experiment_id: str) -> None:
    """The codes MLflow's own server gives for these mistakes; a rejected call changes nothing."""

    def code(call: Any, *args: Any, **kwargs: Any) -> str:
        with pytest.raises(MlflowException) as err:
            call(*args, **kwargs)
        return str(err.value.error_code)

    run_id = tracking.create_run(experiment_id).info.run_id
    assert code(tracking.log_metric, run_id, "m", 1.0, timestamp=-1) == "INVALID_PARAMETER_VALUE"
    assert tracking.get_metric_history(run_id, "m") == []
    exp = tracking.create_experiment(f"codes-{uuid.uuid4().hex[:8]}")
    assert code(tracking.restore_experiment, exp) == "RESOURCE_DOES_NOT_EXIST"
    tracking.delete_experiment(exp)
    assert code(tracking.delete_experiment, exp) == "RESOURCE_DOES_NOT_EXIST"
    assert code(tracking.rename_experiment, exp, "renamed") == "INVALID_STATE"
    assert tracking.get_experiment(exp).lifecycle_stage == "deleted"


def test_create_run_keeps_the_tags_it_was_given(tracking: MlflowClient, experiment_id: str) -> None:
    run = tracking.create_run(experiment_id, tags={"k": "v"})
    tags = tracking.get_run(run.info.run_id).data.tags
    assert tags == {"k": "v", "mlflow.runName": run.info.run_name}  # no mlflow.user invented


def test_search_logged_models_by_metric(tracking: MlflowClient, experiment_id: str) -> None:
    run_id = tracking.create_run(experiment_id).info.run_id
    ids = {}
    for name, acc in (("good", 0.9), ("poor", 0.4)):
        model = mlflow.initialize_logged_model(name, run_id, experiment_id=experiment_id)
        ids[name] = model.model_id
        tracking.log_metric(
            run_id, "acc", acc, model_id=model.model_id, dataset_name="eval", dataset_digest="d1"
        )
    found = tracking.search_logged_models([experiment_id], filter_string="metrics.acc > 0.5")
    assert [m.model_id for m in found] == [ids["good"]]
    ranked = tracking.search_logged_models(
        [experiment_id],
        datasets=[{"dataset_name": "eval", "dataset_digest": "d1"}],
        order_by=[{"field_name": "metrics.acc", "ascending": True}],
    )
    assert [m.model_id for m in ranked] == [ids["poor"], ids["good"]]
    assert [m.metrics[0].value for m in ranked] == [0.4, 0.9]
    # MLflow's server takes any max_results here, and its client passes the caller's on.
    every = mlflow.search_logged_models([experiment_id], max_results=100_000, output_format="list")
    assert sorted(m.model_id for m in every) == sorted(ids.values())


def test_a_models_metrics_logged_before_it_reach_it(
    tracking: MlflowClient, experiment_id: str
) -> None:
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression().fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
    with mlflow.start_run(experiment_id=experiment_id):
        mlflow.log_metric("rmse", 0.25)
        info = mlflow.sklearn.log_model(model, name="clf")
    (point,) = tracking.get_logged_model(info.model_id).metrics
    assert (point.key, point.value) == ("rmse", 0.25)
    found = tracking.search_logged_models([experiment_id], filter_string="metrics.rmse < 1")
    assert [m.model_id for m in found] == [info.model_id]


def test_sklearn_autolog(tracking: MlflowClient) -> None:
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    x, y = load_iris(return_X_y=True)
    mlflow.sklearn.autolog(log_input_examples=False, silent=True)
    try:
        with mlflow.start_run() as run:
            LogisticRegression(max_iter=200, C=0.5).fit(x, y)
    finally:
        mlflow.sklearn.autolog(disable=True)
    got = tracking.get_run(run.info.run_id)
    assert got.data.params["C"] == "0.5"
    assert got.data.params["max_iter"] == "200"
    assert got.data.metrics["training_accuracy_score"] > 0.9
    assert got.data.tags["estimator_name"] == "LogisticRegression"
    models = tracking.search_logged_models([got.info.experiment_id])
    assert any(m.source_run_id == run.info.run_id for m in models)


def test_each_model_logged_in_a_run_gets_the_runs_metrics(
    tracking: MlflowClient, experiment_id: str
) -> None:
    """The client links a run's points to a model it logs only where they name no model: a
    run's history names none (as MLflow's), so a second model gets them too."""
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    x, y = load_iris(return_X_y=True)
    mlflow.sklearn.autolog(log_input_examples=False, silent=True)
    try:
        with mlflow.start_run() as run:
            clf = LogisticRegression(max_iter=300).fit(x, y)  # autolog logs "model"
            mlflow.log_metric("test_acc", 0.95)
            mlflow.sklearn.log_model(clf, name="final")
    finally:
        mlflow.sklearn.autolog(disable=True)
    assert [m.model_id for m in tracking.get_metric_history(run.info.run_id, "test_acc")] == [None]
    found = mlflow.search_logged_models(
        experiment_ids=[experiment_id],
        filter_string=f"source_run_id = '{run.info.run_id}'",
        output_format="list",
    )
    metrics = {m.name: {p.key for p in m.metrics} for m in found}
    assert set(metrics) == {"model", "final"}
    assert {"test_acc", "training_score"} <= metrics["final"] == metrics["model"]
    scored = mlflow.search_logged_models(
        experiment_ids=[experiment_id], filter_string="metrics.training_score > 0.5"
    )
    assert sorted(scored["name"]) == ["final", "model"]


def test_run_name_tag_renames_the_run(tracking: MlflowClient, experiment_id: str) -> None:
    run_id = tracking.create_run(experiment_id, run_name="first").info.run_id
    tracking.set_tag(run_id, "mlflow.runName", "second")
    assert tracking.get_run(run_id).info.run_name == "second"
    found = tracking.search_runs([experiment_id], "attributes.run_name = 'second'")
    assert [r.info.run_id for r in found] == [run_id]
