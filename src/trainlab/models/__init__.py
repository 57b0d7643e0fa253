"""Models in MLflow's layout: ``trainlab.log_model(...)`` / ``trainlab.load_model(uri)``.

Flavors: scikit-learn, XGBoost, LightGBM and PyTorch, each with ``python_function``; what
trainlab logs loads with ``mlflow.pyfunc.load_model`` and ``mlflow.<flavor>.load_model``, and
what those log loads with ``trainlab.load_model``."""

from __future__ import annotations

from trainlab.models.log import ModelInfo, load_model, log_model, register_model, save_model
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
    "register_model",
    "save_model",
]
