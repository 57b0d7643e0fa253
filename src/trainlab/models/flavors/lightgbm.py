"""The LightGBM flavor, in MLflow's layout: a ``Booster`` in LightGBM's text format
(``model.lgb``), a scikit-learn-API estimator pickled like the sklearn flavor (``model.pkl``);
an MLmodel with ``lightgbm`` and ``python_function`` (``loader_module: mlflow.lightgbm``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from trainlab.exceptions import InvalidParameterValue
from trainlab.models.env import pinned, write_environment
from trainlab.models.flavors import sklearn
from trainlab.models.flavors._common import PYFUNC, python_function, top_module
from trainlab.models.mlmodel import MLModel

NAME = "lightgbm"
BOOSTER = "lightgbm.basic.Booster"


def matches(model: Any) -> bool:
    return top_module(model) == "lightgbm"


def save(model: Any, directory: Path, mlmodel: MLModel, serialization_format: str) -> list[str]:
    import lightgbm

    cls = type(model)
    model_class = f"{cls.__module__}.{cls.__name__}"
    conf: dict[str, Any] = {"code": None, "lgb_version": lightgbm.__version__}
    if isinstance(model, lightgbm.Booster):
        data = "model.lgb"
        model.save_model(str(directory / data))
        reqs = pinned(["lightgbm", "numpy", "pandas", "scipy"])
        model_class = BOOSTER
    else:
        if serialization_format not in sklearn.FORMATS:
            raise InvalidParameterValue(
                f"Unsupported serialization_format {serialization_format!r}: use one of "
                f"{sklearn.FORMATS}."
            )
        data = "model.pkl"
        sklearn.dump(model, directory / data, serialization_format)
        extra = ["cloudpickle"] if serialization_format == "cloudpickle" else []
        reqs = pinned(["lightgbm", *extra, "numpy", "pandas", "scikit-learn", "scipy"])
        conf["serialization_format"] = serialization_format
    env = write_environment(directory, reqs)
    mlmodel.flavors[PYFUNC] = python_function("mlflow.lightgbm", data, env)
    mlmodel.flavors[NAME] = {**conf, "data": data, "model_class": model_class}
    return reqs


def load(directory: Path, mlmodel: MLModel) -> Any:
    conf = mlmodel.flavors[NAME]
    path = directory / str(conf.get("data", "model.lgb"))
    if not path.is_file():
        raise InvalidParameterValue(f"The LightGBM model file {str(path)!r} is missing.")
    if conf.get("model_class", BOOSTER) == BOOSTER:
        import lightgbm

        return lightgbm.Booster(model_file=str(path))
    return sklearn.load_file(
        path, conf.get("serialization_format", "cloudpickle"), conf.get("skops_trusted_types")
    )


def predict(model: Any, data: Any) -> Any:
    return model.predict(data)
