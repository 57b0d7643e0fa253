"""What the gate scores a model by: labels (and class probabilities), whatever method the
model's pyfunc predicts with."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression

import trainlab
from trainlab.evaluation.gate import score
from trainlab.models import save_model

mlflow_sklearn = pytest.importorskip("mlflow.sklearn")


def test_a_model_whose_pyfunc_predicts_probabilities_is_scored_by_its_labels(
    tmp_path: Path,
) -> None:
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    model = LogisticRegression(max_iter=5000).fit(X, y)
    path = tmp_path / "model"
    mlflow_sklearn.save_model(
        model, str(path), input_example=X.head(3), pyfunc_predict_fn="predict_proba"
    )
    loaded = trainlab.load_model(path)
    assert np.asarray(loaded.predict(X.head(2))).shape == (2, 2)  # what its pyfunc gives
    scored = score(loaded, X, "classification")
    np.testing.assert_array_equal(scored.pred, model.predict(X))
    assert scored.proba is not None
    np.testing.assert_allclose(scored.proba, model.predict_proba(X))


def test_a_model_that_takes_columns_by_name_is_scored_on_a_frame_in_another_order(
    tmp_path: Path,
) -> None:
    """The gate feeds a column model the held-out frame in the order of the candidate's data:
    its probabilities too come from the frame as its signature orders it."""
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    model = LogisticRegression(max_iter=5000).fit(X, y)
    save_model(model, tmp_path / "model", input_example=X.head(3))
    scored = score(trainlab.load_model(tmp_path / "model"), X[X.columns[::-1]], "classification")
    np.testing.assert_array_equal(scored.pred, model.predict(X))
    np.testing.assert_allclose(scored.proba, model.predict_proba(X))


def test_a_network_that_takes_a_tensor_gets_the_columns_as_float32_in_the_frames_order(
    tmp_path: Path,
) -> None:
    torch = pytest.importorskip("torch")
    from trainlab.training.nets import TabularMLP

    X, _ = load_breast_cancer(return_X_y=True, as_frame=True)
    torch.manual_seed(0)
    net = TabularMLP(n_features=X.shape[1], n_outputs=2, hidden=[8]).eval()
    save_model(net, tmp_path / "net", input_example=X.head(5).to_numpy(np.float32))
    loaded = trainlab.load_model(tmp_path / "net")
    assert loaded.signature is not None and loaded.signature.inputs.is_tensor
    scored = score(loaded, X, "classification")
    with torch.no_grad():
        logits = net(torch.tensor(X.to_numpy(np.float32))).numpy()
    np.testing.assert_array_equal(scored.pred, logits.argmax(axis=1))
    assert scored.proba is not None
    np.testing.assert_allclose(scored.proba.sum(axis=1), 1.0, rtol=1e-6)
