"""The PyTorch flavor, in MLflow's layout: ``data/model.pth`` (the whole module, saved with
``torch.save`` through cloudpickle, as ``mlflow.pytorch.pickle_module`` does) and
``data/pickle_module_info.txt``; an MLmodel with ``pytorch`` and ``python_function``
(``loader_module: mlflow.pytorch``) flavors. Loads MLflow's ``torch.export`` format
(``data/model.pt2``, its default) too."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from trainlab.exceptions import InvalidParameterValue
from trainlab.models.env import pinned, write_environment
from trainlab.models.flavors._common import PYFUNC, python_function
from trainlab.models.mlmodel import MLModel

NAME = "pytorch"
DATA = "data"
MODEL_FILE = "model.pth"
EXPORTED_FILE = "model.pt2"
PICKLE_MODULE_FILE = "pickle_module_info.txt"
PICKLE_MODULE = "mlflow.pytorch.pickle_module"  # cloudpickle, under the name mlflow imports


def matches(model: Any) -> bool:
    for cls in type(model).__mro__:
        if cls.__module__ == "torch.nn.modules.module" and cls.__name__ == "Module":
            return True
    return False


def save(model: Any, directory: Path, mlmodel: MLModel, serialization_format: str) -> list[str]:
    import cloudpickle
    import torch

    data = directory / DATA
    data.mkdir()
    (data / PICKLE_MODULE_FILE).write_text(PICKLE_MODULE, encoding="utf-8")
    torch.save(model, data / MODEL_FILE, pickle_module=cloudpickle)
    reqs = pinned(["torch", "cloudpickle", "numpy", "pandas"])
    env = write_environment(directory, reqs)
    mlmodel.flavors[PYFUNC] = python_function(
        "mlflow.pytorch",
        DATA,
        env,
        pickle_module_name=PICKLE_MODULE,
        model_config={"device": None},
    )
    mlmodel.flavors[NAME] = {
        "code": None,
        "model_data": DATA,
        "pytorch_version": str(torch.__version__),
    }
    return reqs


def load(directory: Path, mlmodel: MLModel) -> Any:
    import torch

    data = directory / str(mlmodel.flavors[NAME].get("model_data", DATA))
    if (data / MODEL_FILE).is_file():
        # cloudpickle writes plain pickle streams: the standard unpickler reads them.
        model = torch.load(data / MODEL_FILE, map_location="cpu", weights_only=False)
        model.eval()
        return model
    if (data / EXPORTED_FILE).is_file():
        return torch.export.load(str(data / EXPORTED_FILE)).module()
    raise InvalidParameterValue(
        f"The PyTorch model in {str(directory)!r} has neither {DATA}/{MODEL_FILE} nor "
        f"{DATA}/{EXPORTED_FILE}."
    )


def signature_input(model: Any, data: Any) -> Any:
    """A float array example as the module computes, in its parameters' dtype (float32, mostly):
    the signature then names the dtype ``mlflow.pyfunc`` must be given. Recorded as float64,
    MLflow's wrapper hands a float64 tensor to a float32 module, which torch refuses."""
    import numpy as np

    dtype = next((p.dtype for p in model.parameters() if p.is_floating_point()), None)
    if dtype is None or not isinstance(data, np.ndarray) or data.dtype.kind != "f":
        return data
    try:
        wanted = np.dtype(str(dtype).removeprefix("torch."))
    except TypeError:  # bfloat16 and others numpy has no dtype for
        return data
    return data.astype(wanted)


def predict(model: Any, data: Any) -> Any:
    """A frame or array in (as float32, like MLflow's pyfunc wrapper), a numpy array out."""
    import numpy as np
    import torch

    array = data.to_numpy(dtype=np.float32) if hasattr(data, "to_numpy") else np.asarray(data)
    if array.dtype == np.float64:
        array = array.astype(np.float32)
    if not array.flags.writeable or not array.flags.c_contiguous:  # pandas' copy-on-write
        array = np.array(array, copy=True, order="C")
    with torch.no_grad():
        out = model(torch.from_numpy(array))
    return out.detach().cpu().numpy()
