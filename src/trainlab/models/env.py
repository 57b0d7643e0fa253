"""The environment a model needs: ``requirements.txt``, ``python_env.yaml``, ``conda.yaml``."""

from __future__ import annotations

import platform
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

REQUIREMENTS_FILE = "requirements.txt"
PYTHON_ENV_FILE = "python_env.yaml"
CONDA_ENV_FILE = "conda.yaml"


def pinned(packages: Sequence[str]) -> list[str]:
    """``name==version`` for each installed package (those not installed are left out). A
    package installed under another distribution name (``xgboost-cpu``) is pinned by the
    version its imported module reports."""
    out = []
    for name in packages:
        try:
            out.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            version = getattr(sys.modules.get(name.replace("-", "_")), "__version__", None)
            if isinstance(version, str):
                out.append(f"{name}=={version}")
    return out


def write_environment(directory: Path, requirements: Sequence[str]) -> dict[str, str]:
    """Write the three environment files; the MLmodel ``env`` entry that points at them."""
    import yaml

    python = platform.python_version()
    (directory / REQUIREMENTS_FILE).write_text("\n".join(requirements) + "\n", encoding="utf-8")
    build = pinned(["pip", "setuptools"]) + ["wheel"]
    python_env = {
        "python": python,
        "build_dependencies": build,
        "dependencies": ["-r requirements.txt"],
    }
    conda = {
        "channels": ["conda-forge"],
        "dependencies": [f"python={python}", "pip", {"pip": list(requirements)}],
        "name": "mlflow-env",
    }
    for name, content in ((PYTHON_ENV_FILE, python_env), (CONDA_ENV_FILE, conda)):
        with open(directory / name, "w", encoding="utf-8") as f:
            yaml.safe_dump(content, f, default_flow_style=False, sort_keys=False)
    return {"conda": CONDA_ENV_FILE, "virtualenv": PYTHON_ENV_FILE}


def read_requirements(directory: Path) -> list[str]:
    path = directory / REQUIREMENTS_FILE
    if not path.is_file():
        return []
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]
