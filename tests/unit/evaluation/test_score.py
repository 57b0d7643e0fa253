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
