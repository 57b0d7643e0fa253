"""XGBoost, LightGBM and PyTorch models across clients, against a real ``trainlab server``:
what trainlab logs loads with ``mlflow.pyfunc`` and ``mlflow.<flavor>``, what those log loads
with ``trainlab.load_model``, and all of them predict identically."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest
from tests.unit.client.test_fluent import (  # noqa: F401 - fixtures used by pytest here
    experiment_fixture,
    isolated_sdk,
    reset_sdk,
)

import trainlab
from trainlab.models import SchemaMismatch

mlflow = pytest.importorskip("mlflow")
xgb = pytest.importorskip("xgboost")
lgb = pytest.importorskip("lightgbm")
torch = pytest.importorskip("torch")


@pytest.fixture
def tracking_uri(server: Any) -> Iterator[str]:
    mlflow.set_tracking_uri(str(server.url))
    yield str(server.url)
    while mlflow.active_run():
        mlflow.end_run()
    reset_sdk()


def data(n: int = 60, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"x1": rng.normal(size=n), "x2": rng.normal(size=n), "x3": rng.normal(size=n)})
    return X, (X.x1 - X.x2 > 0).astype(int)


def tiny_net() -> Any:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1)).eval()


def xgb_classifier(X: pd.DataFrame, y: pd.Series) -> Any:
    return xgb.XGBClassifier(n_estimators=8, max_depth=3).fit(X, y)


def xgb_booster(X: pd.DataFrame, y: pd.Series) -> Any:
    return xgb.train({"objective": "binary:logistic", "max_depth": 3}, xgb.DMatrix(X, y), 8)


def lgb_classifier(X: pd.DataFrame, y: pd.Series) -> Any:
    return lgb.LGBMClassifier(n_estimators=8, min_child_samples=5, verbose=-1).fit(X, y)


def lgb_booster(X: pd.DataFrame, y: pd.Series) -> Any:
    params = {"objective": "binary", "min_data_in_leaf": 5, "verbose": -1}
    return lgb.train(params, lgb.Dataset(X, y), 8)


def torch_net(X: pd.DataFrame, y: pd.Series) -> Any:
    return tiny_net()


def native_predict(model: Any, X: pd.DataFrame) -> np.ndarray:
    if isinstance(model, xgb.Booster):
        return np.asarray(model.predict(xgb.DMatrix(X)))
    if isinstance(model, torch.nn.Module):
        with torch.no_grad():
            return model(torch.tensor(X.to_numpy(np.float32))).numpy()
    return np.asarray(model.predict(X))


CASES: dict[str, tuple[str, Callable[[pd.DataFrame, pd.Series], Any]]] = {
    "xgboost-sklearn-api": ("xgboost", xgb_classifier),
    "xgboost-booster": ("xgboost", xgb_booster),
    "lightgbm-sklearn-api": ("lightgbm", lgb_classifier),
    "lightgbm-booster": ("lightgbm", lgb_booster),
    "pytorch": ("pytorch", torch_net),
}


@pytest.mark.parametrize("case", list(CASES))
def test_trainlab_model_loads_in_mlflow(tracking_uri: str, experiment: str, case: str) -> None:
    flavor, fit = CASES[case]
    X, y = data()
    model = fit(X, y)
    expected = native_predict(model, X)
    name = f"{case}-{uuid.uuid4().hex[:6]}"
    example = X.head(3).to_numpy(np.float32) if flavor == "pytorch" else X.head(3)
    with trainlab.start_run(experiment=experiment, tracking_uri=tracking_uri) as run:
        info = trainlab.log_model(model, "model", input_example=example, registered_model_name=name)
    assert any(
        r.startswith(f"{'torch' if flavor == 'pytorch' else flavor}==") for r in info.requirements
    )
    assert mlflow.MlflowClient().get_logged_model(info.model_id).status == "READY"

    inputs = X.to_numpy(np.float32) if flavor == "pytorch" else X
    pyfunc = mlflow.pyfunc.load_model(f"models:/{name}/1")
    np.testing.assert_allclose(np.asarray(pyfunc.predict(inputs)), expected, rtol=1e-6)
    native = getattr(mlflow, flavor).load_model(f"runs:/{run.run_id}/model")
    assert type(native) is type(model)
    np.testing.assert_allclose(native_predict(native, X), expected, rtol=1e-6)

    loaded = trainlab.load_model(f"models:/{name}/1", tracking_uri=tracking_uri)
    assert type(loaded.get_raw_model()) is type(model)
    np.testing.assert_allclose(np.asarray(loaded.predict(inputs)), expected, rtol=1e-6)


MLFLOW_SIDE: dict[str, tuple[str, Callable[[pd.DataFrame, pd.Series], Any], dict[str, Any]]] = {
    "xgboost-sklearn-api": ("xgboost", xgb_classifier, {}),
    "xgboost-booster-json": ("xgboost", xgb_booster, {"model_format": "json"}),
    "lightgbm-sklearn-api-skops": ("lightgbm", lgb_classifier, {}),
    "lightgbm-sklearn-api-cloudpickle": (
        "lightgbm",
        lgb_classifier,
        {"serialization_format": "cloudpickle"},
    ),
    "lightgbm-booster": ("lightgbm", lgb_booster, {}),
    "pytorch-pt2": ("pytorch", torch_net, {}),  # torch.export: mlflow's default
    "pytorch-pickle": ("pytorch", torch_net, {"serialization_format": "pickle"}),
}


@pytest.mark.parametrize("case", list(MLFLOW_SIDE))
def test_mlflow_model_loads_in_trainlab(tracking_uri: str, case: str) -> None:
    flavor, fit, options = MLFLOW_SIDE[case]
    X, y = data(seed=1)
    model = fit(X, y)
    expected = native_predict(model, X)
    name = f"ml-{case}-{uuid.uuid4().hex[:6]}"
    example = X.head(3).to_numpy(np.float32) if flavor == "pytorch" else X.head(3)
    mlflow.set_experiment(f"ml-{uuid.uuid4().hex[:8]}")
    with mlflow.start_run():
        getattr(mlflow, flavor).log_model(
            model, name="model", input_example=example, registered_model_name=name, **options
        )
    loaded = trainlab.load_model(f"models:/{name}/1", tracking_uri=tracking_uri)
    inputs = X.to_numpy(np.float32) if flavor == "pytorch" else X
    np.testing.assert_allclose(
        np.asarray(loaded.predict(inputs)).reshape(expected.shape), expected, rtol=1e-5
    )
    assert loaded.signature is not None
    if flavor != "pytorch":
        with pytest.raises(SchemaMismatch, match="'x3'"):
            loaded.predict(X.drop(columns="x3"))


def test_signature_is_enforced_for_tensors(tracking_uri: str, experiment: str) -> None:
    net = tiny_net()
    with trainlab.start_run(experiment=experiment, tracking_uri=tracking_uri) as run:
        trainlab.log_model(net, "net", input_example=np.zeros((2, 3), np.float32))
    loaded = trainlab.load_model(f"runs:/{run.run_id}/net", tracking_uri=tracking_uri)
    with pytest.raises(SchemaMismatch, match="shape"):
        loaded.predict(np.zeros((2, 4), np.float32))


def test_a_float64_example_gives_a_network_a_signature_of_its_own_dtype(
    tracking_uri: str, experiment: str
) -> None:
    """numpy's default float64: recorded as such, mlflow.pyfunc handed a float64 tensor to the
    float32 module and torch refused it ("mat1 and mat2 must have the same dtype")."""
    net = tiny_net()
    X = np.random.default_rng(0).normal(size=(6, 3))
    with trainlab.start_run(experiment=experiment, tracking_uri=tracking_uri) as run:
        info = trainlab.log_model(net, "net", input_example=X[:2])
    assert info.signature is not None
    assert info.signature.inputs.specs[0].to_dict()["tensor-spec"]["dtype"] == "float32"
    expected = net(torch.tensor(X, dtype=torch.float32)).detach().numpy()
    uri = f"runs:/{run.run_id}/net"
    ours = trainlab.load_model(uri, tracking_uri=tracking_uri)
    assert np.allclose(ours.predict(X), expected)  # float64 in: converted, as before
    theirs = mlflow.pyfunc.load_model(uri)
    assert np.allclose(theirs.predict(X.astype(np.float32)), expected)


def test_unknown_model_type_is_refused_with_the_supported_list(experiment: str) -> None:
    with (
        trainlab.start_run(experiment=experiment),
        pytest.raises(trainlab.exceptions.InvalidParameterValue, match="PyTorch"),
    ):
        trainlab.log_model(object(), "m")
