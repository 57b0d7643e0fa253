"""Model folders: the MLmodel round trip, and sklearn models logged on the embedded store."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.linear_model import LogisticRegression
from tests.unit.client.test_fluent import (  # noqa: F401 - fixtures used by pytest here
    experiment_fixture,
    isolated_sdk,
    reset_sdk,
)

import trainlab
from trainlab.client.resolve import registry_for, store_for
from trainlab.entities import Dataset, DatasetInput
from trainlab.exceptions import InvalidParameterValue, ResourceAlreadyExists, ResourceNotFound
from trainlab.models import MLModel, SchemaMismatch, save_model

mlflow = pytest.importorskip("mlflow")
pytest.importorskip("mlflow.sklearn")
pytest.importorskip("mlflow.pyfunc")


@pytest.fixture
def tracking_uri(sqlite_uri: str) -> Iterator[str]:
    yield sqlite_uri
    reset_sdk()


def data() -> tuple[pd.DataFrame, pd.Series]:
    X = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0, 4.0, 5.0], "b": [1, 0, 1, 0, 1, 0]})
    return X, (X.a > 2).astype(int)


def fitted() -> LogisticRegression:
    return LogisticRegression().fit(*data())


def test_save_model_layout_and_mlmodel_round_trip(tmp_path: Path) -> None:
    X, _ = data()
    meta = save_model(fitted(), tmp_path / "m", input_example=X.head(2))
    files = sorted(p.name for p in (tmp_path / "m").iterdir())
    assert files == [
        "MLmodel", "conda.yaml", "input_example.json", "model.pkl", "python_env.yaml",
        "requirements.txt", "serving_input_example.json",
    ]  # fmt: skip
    raw = yaml.safe_load((tmp_path / "m" / "MLmodel").read_text())
    assert raw["flavors"]["python_function"]["loader_module"] == "mlflow.sklearn"
    assert raw["flavors"]["python_function"]["env"] == {
        "conda": "conda.yaml",
        "virtualenv": "python_env.yaml",
    }
    assert raw["flavors"]["sklearn"]["serialization_format"] == "cloudpickle"
    assert json.loads(raw["signature"]["inputs"])[0] == {
        "type": "double",
        "name": "a",
        "required": True,
    }
    reqs = (tmp_path / "m" / "requirements.txt").read_text().split()
    assert any(r.startswith("scikit-learn==") for r in reqs)
    assert json.loads((tmp_path / "m" / "input_example.json").read_text()) == {
        "columns": ["a", "b"],
        "data": [[0.0, 1], [1.0, 0]],
    }
    again = MLModel.load(tmp_path / "m")
    assert again.to_dict() == meta.to_dict()
    # mlflow reads it, signature and input example included
    model = mlflow.pyfunc.load_model(str(tmp_path / "m"))
    np.testing.assert_array_equal(model.predict(X), fitted().predict(X))
    assert model.metadata.get_input_schema().input_names() == ["a", "b"]
    assert (
        mlflow.models.Model.load(str(tmp_path / "m")).load_input_example(str(tmp_path / "m"))
        is not None
    )


def test_save_model_refuses(tmp_path: Path) -> None:
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(ResourceAlreadyExists):
        save_model(fitted(), tmp_path / "full")
    with pytest.raises(InvalidParameterValue, match="trainlab logs scikit-learn, XGBoost"):
        save_model(object(), tmp_path / "obj")
    with pytest.raises(ResourceNotFound, match="MLmodel"):
        trainlab.load_model(tmp_path / "nothing")


def test_load_mlflow_saved_model_from_folder(tmp_path: Path) -> None:
    X, _ = data()
    mlflow.sklearn.save_model(
        fitted(), str(tmp_path / "ml"), input_example=X.head(2), serialization_format="pickle"
    )
    loaded = trainlab.load_model(str(tmp_path / "ml"))
    np.testing.assert_array_equal(loaded.predict(X), fitted().predict(X))
    with pytest.raises(SchemaMismatch, match="'b'"):
        loaded.predict(X[["a"]])


def test_log_model_embedded_with_registry_lineage_and_digest(
    tracking_uri: str, experiment: str
) -> None:
    X, _ = data()
    with trainlab.start_run(experiment=experiment, tracking_uri=tracking_uri) as run:
        store = store_for(tracking_uri)
        store.log_inputs(run.run_id, [DatasetInput(Dataset("train", "abc123", "code", "x"))])
        info = trainlab.log_model(
            fitted(), "clf", input_example=X.head(2), registered_model_name="clf"
        )
    assert info.data_digest == "abc123"
    assert info.registered_model_version == 1
    assert any(r.startswith("scikit-learn==") for r in info.requirements)
    registry = registry_for(store)
    mv = registry.get_model_version("clf", 1)
    assert mv.model_id == info.model_id and mv.run_id == run.run_id
    registry.set_registered_model_alias("clf", "prod", 1)
    expected = fitted().predict(X)
    for uri in (
        f"runs:/{run.run_id}/clf",
        "models:/clf/1",
        "models:/clf@prod",
        "models:/clf/latest",
        info.model_uri,
    ):
        loaded = trainlab.load_model(uri, tracking_uri=tracking_uri)
        np.testing.assert_array_equal(loaded.predict(X), expected)
    meta = trainlab.load_model(info.model_uri, tracking_uri=tracking_uri).metadata
    assert meta.run_id == run.run_id and meta.model_id == info.model_id
    assert meta.extra["metadata"]["trainlab.data_digest"] == "abc123"
    from trainlab.client.rest_logged_models import logged_models_for

    lm = logged_models_for(store).get_logged_model(info.model_id)
    assert str(lm.status) == "LOGGED_MODEL_READY"
    assert lm.tags["trainlab.data_digest"] == "abc123"
    assert store.get_run(run.run_id).outputs.model_outputs == [(info.model_id, 0)]


def test_load_model_bad_uris(tracking_uri: str, experiment: str) -> None:
    with trainlab.start_run(experiment=experiment, tracking_uri=tracking_uri) as run:
        pass
    with pytest.raises(ResourceNotFound, match="no model.* It has no logged models.$"):
        trainlab.load_model(f"runs:/{run.run_id}/nothing", tracking_uri=tracking_uri)
    with pytest.raises(ResourceNotFound, match="there is no registered model 'nope'"):
        trainlab.load_model("models:/nope/1", tracking_uri=tracking_uri)
    with pytest.raises(InvalidParameterValue, match="runs:/<run_id>/<path>"):
        trainlab.load_model(f"runs:/{run.run_id}", tracking_uri=tracking_uri)
    with pytest.raises(InvalidParameterValue, match="version"):
        trainlab.load_model("models:/clf/abc", tracking_uri=tracking_uri)
    with pytest.raises(ResourceNotFound):
        trainlab.load_model("models:/nope/1", tracking_uri=tracking_uri)
    with pytest.raises(InvalidParameterValue, match="no alias after '@'"):
        trainlab.load_model("models:/clf@", tracking_uri=tracking_uri)
    with pytest.raises(InvalidParameterValue, match="No active run"):
        trainlab.log_model(fitted(), "x")


def test_active_run_log_model_with_numpy_example(
    tracking_uri: str, experiment: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    X, y = data()
    arr = X.to_numpy(dtype="float64")
    model = LogisticRegression().fit(arr, y)
    with trainlab.start_run(experiment=experiment, tracking_uri=tracking_uri) as run:
        info = run.log_model(model, "np", input_example=arr[:2])
        with pytest.raises(InvalidParameterValue, match="model name"):
            run.log_model(model, "a/b")
    assert info.signature is not None and info.signature.inputs.is_tensor
    loaded = trainlab.load_model(
        f"runs:/{run.run_id}/np", tracking_uri=tracking_uri, dst_path=tmp_path / "np"
    )
    assert loaded.path == tmp_path / "np"
    # without dst_path, the download is removed once the model is in memory
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    again = trainlab.load_model(f"runs:/{run.run_id}/np", tracking_uri=tracking_uri)
    assert again.path is None and list((tmp_path / "tmp").iterdir()) == []
    np.testing.assert_array_equal(again.predict(arr), model.predict(arr))
    np.testing.assert_array_equal(loaded.predict(arr.astype("float32")), model.predict(arr))
    with pytest.raises(SchemaMismatch, match="shape"):
        loaded.predict(arr[:, :1])
    assert (
        mlflow.pyfunc.load_model(str(loaded.path)).predict(arr).tolist()
        == model.predict(arr).tolist()
    )
