"""Models in MLflow's layout: ``trainlab.log_model(...)`` / ``trainlab.load_model(uri)``.

scikit-learn only (the ``sklearn`` and ``python_function`` flavors); what trainlab logs loads
with ``mlflow.pyfunc.load_model`` and ``mlflow.sklearn.load_model``, and the other way round."""

from __future__ import annotations

from trainlab.models.log import ModelInfo, load_model, log_model, save_model
from trainlab.models.mlmodel import MLModel
from trainlab.models.pyfunc import LoadedModel
from trainlab.models.signature import (
    ColSpec,
    ModelSignature,
    Schema,
    SchemaMismatch,
    TensorSpec,
    infer_signature,
)

__all__ = [
    "ColSpec",
    "LoadedModel",
    "MLModel",
    "ModelInfo",
    "ModelSignature",
    "Schema",
    "SchemaMismatch",
    "TensorSpec",
    "infer_signature",
    "load_model",
    "log_model",
    "save_model",
]
