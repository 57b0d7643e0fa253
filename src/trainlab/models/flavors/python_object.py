"""Any other Python object with a ``predict`` method (your own model class, a framework trainlab
has no flavor for): cloudpickled into ``model.pkl`` (classes defined in your script or notebook
travel by value), with an MLmodel ``python_function`` flavor whose ``loader_module`` is this
module, so ``mlflow.pyfunc.load_model`` reads it wherever trainlab is installed, and
``trainlab.load_model`` returns the object itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from trainlab.exceptions import InvalidParameterValue
from trainlab.models.env import pinned, write_environment
from trainlab.models.flavors._common import PYFUNC, python_function
from trainlab.models.mlmodel import MLModel

NAME = "python_object"
MODEL_FILE = "model.pkl"


def matches(model: Any) -> bool:
    """The fallback: any object whose ``predict`` can be called (after the framework flavors,
    which save their models in their own formats)."""
    return callable(getattr(model, "predict", None)) and not isinstance(model, type)


def save(model: Any, directory: Path, mlmodel: MLModel, serialization_format: str) -> list[str]:
    import cloudpickle

    cls = type(model)
    try:
        with open(directory / MODEL_FILE, "wb") as f:
            cloudpickle.dump(model, f)
    except Exception as exc:  # cloudpickle raises whatever the object's state raises
        raise InvalidParameterValue(
            f"Cannot pickle the {cls.__module__}.{cls.__name__} to log it: {exc}. Give it "
            "state that pickles (no open files, locks or connections), or log a framework model."
        ) from exc
    reqs = pinned(["trainlab", "cloudpickle", "numpy", "pandas"])
    env = write_environment(directory, reqs)
    mlmodel.flavors[PYFUNC] = python_function(__name__, MODEL_FILE, env)
    mlmodel.flavors[NAME] = {
        "pickled_model": MODEL_FILE,
        "model_class": f"{cls.__module__}.{cls.__qualname__}",
    }
    return reqs


def load(directory: Path, mlmodel: MLModel) -> Any:
    conf = mlmodel.flavors[NAME]
    return _load_file(directory / str(conf.get("pickled_model", MODEL_FILE)))


def predict(model: Any, data: Any) -> Any:
    return model.predict(data)


def _load_file(path: Path) -> Any:
    import cloudpickle

    if not path.is_file():
        raise InvalidParameterValue(f"The pickled model {str(path)!r} is missing.")
    with open(path, "rb") as f:
        return cloudpickle.load(f)  # the model folder is trusted by whoever loads it


def _load_pyfunc(path: str) -> Any:
    """``mlflow.pyfunc``'s entry point: the object, whose ``predict(data)`` it calls."""
    return _load_file(Path(path))
