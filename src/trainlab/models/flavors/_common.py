"""Helpers the flavor modules share."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from trainlab.exceptions import InvalidParameterValue

PYFUNC = "python_function"


def python_function(
    loader_module: str, data: str, env: dict[str, str], **extra: Any
) -> dict[str, Any]:
    """The ``python_function`` flavor entry that points ``mlflow.pyfunc`` at ``loader_module``."""
    import platform

    return {
        "data": data,
        "env": env,
        "loader_module": loader_module,
        "python_version": platform.python_version(),
        **extra,
    }


def framework_class(name: str, package: str, directory: Path) -> type:
    """The class ``name`` (``pkg.module.Class``) recorded in a model folder; only classes of
    ``package`` are imported, so a crafted MLmodel cannot make the loader import anything."""
    import importlib

    module, _, attr = name.rpartition(".")
    if module.split(".")[0] != package:
        raise InvalidParameterValue(
            f"The model in {str(directory)!r} names class {name!r}, which is not a {package} class."
        )
    cls = getattr(importlib.import_module(module), attr, None)
    if not isinstance(cls, type):
        raise InvalidParameterValue(
            f"The model in {str(directory)!r} names class {name!r}, which {package} does not have."
        )
    return cls


def top_module(model: Any) -> str:
    return type(model).__module__.split(".")[0]
