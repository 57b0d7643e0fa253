"""Model flavors: how one framework's models are saved into and loaded from a model folder.

Each flavor module has ``NAME``, ``matches(model)`` (decided from the class's module, without
importing the framework), ``save(model, directory, mlmodel, serialization_format)`` returning
the pinned requirements it wrote, ``load(directory, mlmodel)`` returning the framework object,
and ``predict(model, data)``; a flavor whose folder may name another method to call has
``predictor(mlmodel)`` too (see ``predictor`` below), and one whose models take one dtype
``signature_input(model, example)``, the example as the signature records it. The layouts are
MLflow's, so ``mlflow.<flavor>.load_model`` and ``mlflow.pyfunc.load_model`` read what trainlab
writes, and the other way round."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from trainlab.exceptions import InvalidParameterValue
from trainlab.models.flavors import lightgbm, python_object, pytorch, sklearn, xgboost
from trainlab.models.mlmodel import MLModel

# Most specific first: XGBoost's and LightGBM's estimators are scikit-learn estimators too; any
# other object with predict() is pickled as it is.
FLAVORS: tuple[ModuleType, ...] = (xgboost, lightgbm, pytorch, sklearn, python_object)


def for_model(model: Any) -> ModuleType:
    """The flavor that saves ``model``."""
    for flavor in FLAVORS:
        if flavor.matches(model):
            return flavor
    cls = type(model)
    raise InvalidParameterValue(
        f"Cannot log a {cls.__module__}.{cls.__name__}: it has no predict method. trainlab logs "
        "scikit-learn, XGBoost, LightGBM and PyTorch (torch.nn.Module) models, and any other "
        "object with predict()."
    )


def for_folder(directory: Path, mlmodel: MLModel) -> ModuleType:
    """The flavor that loads the model folder ``directory``."""
    for flavor in FLAVORS:
        if flavor.NAME in mlmodel.flavors:
            return flavor
    raise InvalidParameterValue(
        f"The model in {str(directory)!r} has none of the flavors trainlab loads "
        f"({', '.join(f.NAME for f in FLAVORS)}); its flavors: {sorted(mlmodel.flavors)}."
    )


def predictor(flavor: ModuleType, mlmodel: MLModel) -> Callable[[Any, Any], Any]:
    """How a loaded model of ``flavor`` predicts, as its MLmodel says."""
    if hasattr(flavor, "predictor"):
        return flavor.predictor(mlmodel)  # type: ignore[no-any-return]
    return flavor.predict  # type: ignore[no-any-return]
