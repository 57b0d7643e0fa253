"""The XGBoost flavor, in MLflow's layout: the booster in XGBoost's own format (``model.ubj``),
an MLmodel with ``xgboost`` (recording the estimator class) and ``python_function``
(``loader_module: mlflow.xgboost``) flavors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from trainlab.exceptions import InvalidParameterValue
from trainlab.models.env import pinned, write_environment
from trainlab.models.flavors._common import PYFUNC, framework_class, python_function, top_module
from trainlab.models.mlmodel import MLModel

NAME = "xgboost"
FORMATS = ("ubj", "json")


def matches(model: Any) -> bool:
    return top_module(model) == "xgboost"


def save(model: Any, directory: Path, mlmodel: MLModel, serialization_format: str) -> list[str]:
    import xgboost

    fmt = serialization_format if serialization_format in FORMATS else "ubj"
    data = f"model.{fmt}"
    model.save_model(str(directory / data))
    reqs = pinned(["xgboost", "numpy", "pandas", "scikit-learn", "scipy"])
    env = write_environment(directory, reqs)
    cls = type(model)
    mlmodel.flavors[PYFUNC] = python_function("mlflow.xgboost", data, env)
    mlmodel.flavors[NAME] = {
        "code": None,
        "data": data,
        "model_class": f"{cls.__module__}.{cls.__name__}",
        "model_format": fmt,
        "xgb_version": xgboost.__version__,
    }
    return reqs


def load(directory: Path, mlmodel: MLModel) -> Any:
    conf = mlmodel.flavors[NAME]
    cls = framework_class(conf.get("model_class", "xgboost.core.Booster"), "xgboost", directory)
    path = directory / str(conf.get("data", "model.xgb"))
    if not path.is_file():
        raise InvalidParameterValue(f"The XGBoost model file {str(path)!r} is missing.")
    model = cls()
    model.load_model(str(path))
    return model


def predict(model: Any, data: Any) -> Any:
    import xgboost

    if isinstance(model, xgboost.Booster):
        return model.predict(xgboost.DMatrix(data))
    return model.predict(data)
