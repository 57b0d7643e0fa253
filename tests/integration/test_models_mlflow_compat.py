"""Models across clients, against a real ``trainlab server``: what trainlab logs loads with
``mlflow.pyfunc`` / ``mlflow.sklearn`` and the other way round, predicting identically."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LinearRegression
from tests.unit.client.test_fluent import (  # noqa: F401 - fixtures used by pytest here
    experiment_fixture,
    isolated_sdk,
    reset_sdk,
)

import trainlab
from trainlab.models import SchemaMismatch

mlflow = pytest.importorskip("mlflow")
pytest.importorskip("mlflow.pyfunc")
pytest.importorskip("mlflow.sklearn")


@pytest.fixture
def tracking_uri(server: Any) -> Iterator[str]:
    mlflow.set_tracking_uri(str(server.url))
    yield str(server.url)
    while mlflow.active_run():
        mlflow.end_run()
    reset_sdk()


def frame(n: int = 40, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {"x1": rng.normal(size=n), "x2": rng.normal(size=n), "n": rng.integers(0, 5, size=n)}
    )


def test_trainlab_model_loads_in_mlflow(tracking_uri: str, experiment: str) -> None:
    X = frame()
    y = (X.x1 + X.n > 1).astype(int)
    model = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y)
    name = f"rf-{uuid.uuid4().hex[:8]}"
    with trainlab.start_run(experiment=experiment, tracking_uri=tracking_uri) as run:
        info = trainlab.log_model(
            model, "model", input_example=X.head(3), registered_model_name=name
        )
    assert info.registered_model_version == 1 and info.model_id.startswith("m-")
    mlflow.MlflowClient().set_registered_model_alias(name, "champion", "1")
    expected = model.predict(X)

    by_run = mlflow.pyfunc.load_model(f"runs:/{run.run_id}/model")
    np.testing.assert_array_equal(np.asarray(by_run.predict(X)), expected)
    by_alias = mlflow.pyfunc.load_model(f"models:/{name}@champion")
    np.testing.assert_array_equal(np.asarray(by_alias.predict(X)), expected)
    raw = mlflow.sklearn.load_model(f"models:/{name}/1")
    np.testing.assert_array_equal(raw.predict(X), expected)
    assert by_run.metadata.get_input_schema().input_names() == ["x1", "x2", "n"]

    lm = mlflow.MlflowClient().get_logged_model(info.model_id)
    assert lm.status == "READY" and lm.source_run_id == run.run_id
    assert json.loads(lm.tags["mlflow.modelVersions"]) == [{"name": name, "version": "1"}]
    outputs = mlflow.get_run(run.run_id).outputs
    assert outputs is not None and [o.model_id for o in outputs.model_outputs] == [info.model_id]

    for uri in (f"runs:/{run.run_id}/model", f"models:/{name}@champion", info.model_uri):
        np.testing.assert_array_equal(
            trainlab.load_model(uri, tracking_uri=tracking_uri).predict(X), expected
        )


def test_a_model_of_text_labels_loads_in_mlflow(tracking_uri: str, experiment: str) -> None:
    """Labels in a numpy array of text (dtype <U3): its predictions have that dtype, which an
    MLmodel cannot name as a tensor for MLflow to read."""
    from sklearn.linear_model import LogisticRegression

    X = frame()
    y = np.where(X.x1 > 0, "yes", "no")
    model = LogisticRegression().fit(X, y)
    with trainlab.start_run(experiment=experiment, tracking_uri=tracking_uri):
        info = trainlab.log_model(model, "m", input_example=X.head(5))
    loaded = mlflow.pyfunc.load_model(info.model_uri)
    np.testing.assert_array_equal(np.asarray(loaded.predict(X)), model.predict(X))
    assert loaded.metadata.get_output_schema().input_types() == [mlflow.types.DataType.string]


@pytest.mark.parametrize("serialization_format", ["skops", "cloudpickle", "pickle"])
def test_mlflow_model_loads_in_trainlab(tracking_uri: str, serialization_format: str) -> None:
    """skops is mlflow.sklearn's default format; cloudpickle and pickle are its others."""
    X = frame(seed=1)
    y = 2 * X.x1 - X.x2 + 0.5 * X.n
    model = LinearRegression().fit(X, y)
    name = f"lr-{uuid.uuid4().hex[:8]}"
    mlflow.set_experiment(f"ml-{uuid.uuid4().hex[:8]}")
    with mlflow.start_run():
        mlflow.sklearn.log_model(
            model,
            name="model",
            input_example=X.head(3),
            registered_model_name=name,
            serialization_format=serialization_format,
        )
    loaded = trainlab.load_model(f"models:/{name}/1", tracking_uri=tracking_uri)
    np.testing.assert_allclose(loaded.predict(X), model.predict(X))
    assert loaded.signature is not None
    with pytest.raises(SchemaMismatch, match="'x2'"):
        loaded.predict(X.drop(columns="x2"))


def test_signature_errors_are_clear(tracking_uri: str, experiment: str) -> None:
    X = frame(seed=2)
    model = LinearRegression().fit(X, X.x1)
    with trainlab.start_run(experiment=experiment, tracking_uri=tracking_uri) as run:
        trainlab.log_model(model, "m", input_example=X.head(2))
    loaded = trainlab.load_model(f"runs:/{run.run_id}/m", tracking_uri=tracking_uri)
    with pytest.raises(SchemaMismatch, match=r"missing required column\(s\) \['n'\]"):
        loaded.predict(X[["x1", "x2"]])
    with pytest.raises(SchemaMismatch, match=r"'n' has type double .* expects long"):
        loaded.predict(X.assign(n=X.n + 0.5))
    with pytest.raises(SchemaMismatch, match=r"'x1' has type string .* expects double"):
        loaded.predict(X.assign(x1="a"))
    # Safe conversions pass: int32 -> long.
    np.testing.assert_allclose(loaded.predict(X.astype({"n": "int32"})), model.predict(X))


def test_mlflow_predict_fn_is_the_method_trainlab_calls(tracking_uri: str) -> None:
    """A model logged with pyfunc_predict_fn="predict_proba" predicts probabilities in both."""
    from sklearn.linear_model import LogisticRegression

    X = frame(seed=2)
    model = LogisticRegression().fit(X, (X.x1 > 0).astype(int))
    mlflow.set_experiment(f"ml-{uuid.uuid4().hex[:8]}")
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(
            model, name="model", input_example=X.head(3), pyfunc_predict_fn="predict_proba"
        )
    expected = model.predict_proba(X)
    np.testing.assert_allclose(mlflow.pyfunc.load_model(info.model_uri).predict(X), expected)
    loaded = trainlab.load_model(info.model_uri, tracking_uri=tracking_uri)
    np.testing.assert_allclose(loaded.predict(X), expected)


def test_categorical_columns_are_logged_so_mlflow_can_predict(
    tracking_uri: str, experiment: str
) -> None:
    """No signature type describes a pandas categorical: typed as a string, mlflow.pyfunc
    refused the model's own data. Such a model is logged without a signature, as MLflow does."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    X = frame(seed=3)
    X["colour"] = pd.Categorical(np.where(X.n > 2, "red", "blue"))
    model = HistGradientBoostingClassifier(max_iter=5, categorical_features="from_dtype")
    model.fit(X, (X.x1 > 0).astype(int))
    with trainlab.start_run(experiment=experiment, tracking_uri=tracking_uri):
        info = trainlab.log_model(model, "model", input_example=X.head(5))
    loaded = mlflow.pyfunc.load_model(info.model_uri)
    assert loaded.metadata.signature is None
    np.testing.assert_array_equal(np.asarray(loaded.predict(X)), model.predict(X))
    ours = trainlab.load_model(info.model_uri, tracking_uri=tracking_uri)
    np.testing.assert_array_equal(ours.predict(X), model.predict(X))


def test_a_pipeline_network_takes_the_frame_a_forest_takes_in_mlflow(tracking_uri: str) -> None:
    """A network trained by a pipeline names its feature columns in its signature, as the
    pipeline's other models do: mlflow.pyfunc feeds it a float64 DataFrame (in any column
    order) where a tensor signature refused anything but float32."""
    from sklearn.datasets import load_wine

    config = {
        "experiment": f"net-{uuid.uuid4().hex[:8]}",
        "data": {"source": "sklearn:wine", "target": "target",
                 "split": {"test": 0.2, "valid": 0.2, "seed": 7}},
        "model": {"flavor": "pytorch", "class": "trainlab.training.nets.TabularMLP",
                  "params": {"hidden": [8]}},
        "train": {"epochs": 3, "lr": 0.01, "seed": 1},
    }  # fmt: skip
    result = trainlab.train(config, tracking_uri=tracking_uri, progress=False)
    X = load_wine(as_frame=True).data.head(20)
    loaded = mlflow.pyfunc.load_model(result.model_uri)
    assert loaded.metadata.get_input_schema().input_names() == list(X.columns)
    scores = np.asarray(loaded.predict(X))
    assert scores.shape == (20, 3)
    np.testing.assert_allclose(np.asarray(loaded.predict(X[X.columns[::-1]])), scores)
    ours = trainlab.load_model(result.model_uri, tracking_uri=tracking_uri)
    np.testing.assert_allclose(ours.predict(X), scores, rtol=1e-5, atol=1e-5)
