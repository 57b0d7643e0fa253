"""The scikit-learn flavor, in MLflow's layout: ``model.pkl`` (cloudpickle or pickle), an
MLmodel with ``sklearn`` and ``python_function`` (``loader_module: mlflow.sklearn``) flavors, so
``mlflow.sklearn.load_model`` and ``mlflow.pyfunc.load_model`` read what trainlab writes."""

from __future__ import annotations

import pickle
import platform
from collections.abc import Callable
from pathlib import Path
from typing import Any

from trainlab.exceptions import InvalidParameterValue
from trainlab.models.env import pinned, write_environment
from trainlab.models.flavors._common import PYFUNC, top_module
from trainlab.models.mlmodel import MLModel

NAME = "sklearn"
MODEL_FILE = "model.pkl"
FORMATS = ("cloudpickle", "pickle")


def matches(model: Any) -> bool:
    """scikit-learn's own estimators, and yours built on its base classes (they carry its
    estimator tags)."""
    if top_module(model) == "sklearn":
        return True
    return hasattr(model, "__sklearn_tags__") or hasattr(model, "_sklearn_tags")


def requirements(serialization_format: str) -> list[str]:
    extra = ["cloudpickle"] if serialization_format == "cloudpickle" else []
    return pinned(["scikit-learn", *extra, "numpy", "pandas", "scipy"])


def save(model: Any, directory: Path, mlmodel: MLModel, serialization_format: str) -> list[str]:
    """Pickle ``model`` into ``directory`` and add both flavors to ``mlmodel``; the pinned
    requirements written."""
    if serialization_format not in FORMATS:
        raise InvalidParameterValue(
            f"Unsupported serialization_format {serialization_format!r}: use one of {FORMATS}."
        )
    if not hasattr(model, "predict"):
        raise InvalidParameterValue(
            f"{type(model).__name__} has no predict method: only fitted scikit-learn estimators "
            "can be logged with the sklearn flavor."
        )
    dump(model, directory / MODEL_FILE, serialization_format)
    reqs = requirements(serialization_format)
    env = write_environment(directory, reqs)
    import sklearn

    mlmodel.flavors[PYFUNC] = {
        "env": env,
        "loader_module": "mlflow.sklearn",
        "model_path": MODEL_FILE,
        "predict_fn": "predict",
        "python_version": platform.python_version(),
    }
    mlmodel.flavors[NAME] = {
        "code": None,
        "pickled_model": MODEL_FILE,
        "serialization_format": serialization_format,
        "sklearn_version": sklearn.__version__,
    }
    return reqs


def dump(model: Any, path: Path, serialization_format: str) -> None:
    with open(path, "wb") as f:
        if serialization_format == "cloudpickle":
            import cloudpickle

            cloudpickle.dump(model, f)
        else:
            pickle.dump(model, f, protocol=pickle.DEFAULT_PROTOCOL)


def load(directory: Path, mlmodel: MLModel) -> Any:
    conf = mlmodel.flavors[NAME]
    return load_file(
        directory / conf.get("pickled_model", MODEL_FILE),
        conf.get("serialization_format", "pickle"),
        conf.get("skops_trusted_types"),
    )


def predict(model: Any, data: Any) -> Any:
    return model.predict(data)


# The estimator methods MLflow's pyfunc may call (mlflow.sklearn's pyfunc_predict_fn).
PREDICT_FNS = ("predict", "predict_proba", "predict_log_proba", "predict_joint_log_proba", "score")


def predictor(mlmodel: MLModel) -> Callable[[Any, Any], Any]:
    """What ``predict`` calls for this model folder: the method its MLmodel names, as
    ``mlflow.pyfunc`` does (``predict_proba`` for a model logged with
    ``pyfunc_predict_fn="predict_proba"``)."""
    name = mlmodel.flavors.get(PYFUNC, {}).get("predict_fn") or "predict"
    if name not in PREDICT_FNS:
        raise InvalidParameterValue(
            f"The model's MLmodel names predict_fn {name!r}; it must be one of {PREDICT_FNS}."
        )

    def call(model: Any, data: Any) -> Any:
        method = getattr(model, name, None)
        if method is None:
            raise InvalidParameterValue(
                f"The model's MLmodel names predict_fn {name!r}, which "
                f"{type(model).__name__} does not have."
            )
        return method(data)

    return call


def load_file(path: Path, fmt: str, trusted: list[str] | None) -> Any:
    """An estimator pickled (skops, cloudpickle or pickle) the way ``mlflow.sklearn`` does."""
    directory = path.parent
    if fmt == "skops":  # MLflow 3's default for mlflow.sklearn.log_model
        return _load_skops(path, trusted)
    if fmt not in FORMATS:
        raise InvalidParameterValue(
            f"The model in {str(directory)!r} is serialized as {fmt!r}; trainlab loads "
            f"{', '.join(FORMATS)} and skops (log it with serialization_format='cloudpickle')."
        )
    with open(path, "rb") as f:
        if fmt == "cloudpickle":
            import cloudpickle

            return cloudpickle.load(f)
        return pickle.load(f)  # noqa: S301 - the model folder is trusted by whoever loads it


def _load_skops(path: Path, trusted: list[str] | None) -> Any:
    """skops refuses types outside its trusted set (and those the model lists as trusted)."""
    import skops.io as sio

    try:
        return sio.load(path, trusted=trusted)
    except sio.exceptions.UntrustedTypesFoundException as exc:
        raise InvalidParameterValue(
            f"The skops model in {str(path.parent)!r} contains types skops does not trust: "
            f"{exc}. Log it with skops_trusted_types=[...] naming them, or with "
            "serialization_format='cloudpickle'."
        ) from None
