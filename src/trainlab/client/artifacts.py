"""Artifacts from the SDK: ``trainlab.log_artifact(...)``, ``trainlab.download_artifacts(...)``.

Unlike metrics these calls are synchronous: they return once the files are stored (or raise a
``TrainlabError``). A run's ``artifact_uri`` decides how: through the tracking server's proxied
artifact API for ``mlflow-artifacts:`` roots, by copying files for ``file:`` roots."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trainlab.artifacts.base import FileInfo
from trainlab.artifacts.paths import validate_artifact_path
from trainlab.client.artifact_repo import ArtifactRepo, repo_for
from trainlab.exceptions import InvalidParameterValue, ResourceNotFound

if TYPE_CHECKING:
    from trainlab.client.fluent import ActiveRun, _Client

__all__ = [
    "FileInfo",
    "download_artifacts",
    "list_artifacts",
    "log_artifact",
    "log_artifacts",
    "log_dict",
    "log_text",
]


def run_repo(client: _Client, run_id: str) -> ArtifactRepo:
    return repo_for(client.store.get_run(run_id).info.artifact_uri, client.store)


def _dest(artifact_path: str | None, name: str) -> str:
    base = validate_artifact_path(artifact_path or "")
    return validate_artifact_path(f"{base}/{name}" if base else name)


def upload_file(
    repo: ArtifactRepo, local_path: str | os.PathLike[str], artifact_path: str | None
) -> None:
    local = Path(local_path)
    if not local.exists():
        raise InvalidParameterValue(f"{str(local)!r}: no such file.")
    if not local.is_file():
        raise InvalidParameterValue(f"{str(local)!r} is not a file (log_artifacts takes folders).")
    repo.upload_file(local, _dest(artifact_path, local.name))


def upload_dir(
    repo: ArtifactRepo, local_dir: str | os.PathLike[str], artifact_path: str | None
) -> None:
    local = Path(local_dir)
    if not local.is_dir():
        raise InvalidParameterValue(f"{str(local)!r} is not a directory.")
    repo.upload_dir(local, validate_artifact_path(artifact_path or ""))


def upload_text(repo: ArtifactRepo, text: str, artifact_file: str) -> None:
    rel = validate_artifact_path(artifact_file)
    if not rel:
        raise InvalidParameterValue("artifact_file must name a file, e.g. 'notes/summary.txt'.")
    with tempfile.TemporaryDirectory(prefix="trainlab-") as tmp:
        local = Path(tmp) / Path(rel).name
        local.write_text(text, encoding="utf-8")
        repo.upload_file(local, rel)


def dict_text(d: dict[str, Any], artifact_file: str) -> str:
    """``d`` as YAML for ``.yaml``/``.yml`` files, else as indented JSON (MLflow's rule)."""
    if artifact_file.endswith((".yaml", ".yml")):
        import yaml

        text: str = yaml.safe_dump(d, default_flow_style=False, sort_keys=False)
        return text
    return json.dumps(d, indent=2)


def _runs_client(tracking_uri: str | None) -> _Client:
    from trainlab.client.fluent import _client

    return _client(tracking_uri)


def _target(run_id: str | None, tracking_uri: str | None) -> ArtifactRepo:
    """The artifacts of ``run_id``, else of the active run."""
    from trainlab.client.fluent import _require_run

    if run_id is not None:
        return run_repo(_runs_client(tracking_uri), run_id)
    run: ActiveRun = _require_run()
    return run.artifact_repo()


def log_artifact(
    local_path: str | os.PathLike[str],
    artifact_path: str | None = None,
    *,
    run_id: str | None = None,
    tracking_uri: str | None = None,
) -> None:
    """Store the file ``local_path`` as ``<artifact_path>/<its name>`` of the active run (or of
    ``run_id``)."""
    upload_file(_target(run_id, tracking_uri), local_path, artifact_path)


def log_artifacts(
    local_dir: str | os.PathLike[str],
    artifact_path: str | None = None,
    *,
    run_id: str | None = None,
    tracking_uri: str | None = None,
) -> None:
    """Store every file under ``local_dir`` (recursively) under ``artifact_path``."""
    upload_dir(_target(run_id, tracking_uri), local_dir, artifact_path)


def log_text(
    text: str, artifact_file: str, *, run_id: str | None = None, tracking_uri: str | None = None
) -> None:
    """Store ``text`` (UTF-8) as the artifact ``artifact_file``."""
    upload_text(_target(run_id, tracking_uri), text, artifact_file)


def log_dict(
    dictionary: dict[str, Any],
    artifact_file: str,
    *,
    run_id: str | None = None,
    tracking_uri: str | None = None,
) -> None:
    """Store ``dictionary`` as JSON, or as YAML when ``artifact_file`` ends in .yaml/.yml."""
    log_text(
        dict_text(dictionary, artifact_file),
        artifact_file,
        run_id=run_id,
        tracking_uri=tracking_uri,
    )


def list_artifacts(
    run_id: str, path: str | None = None, *, tracking_uri: str | None = None
) -> list[FileInfo]:
    """Files and folders directly under ``path`` of the run's artifacts, paths relative to the
    run's artifact root."""
    return run_repo(_runs_client(tracking_uri), run_id).list(validate_artifact_path(path or ""))


def download_artifacts(
    run_id: str,
    path: str = "",
    dst_path: str | os.PathLike[str] | None = None,
    *,
    tracking_uri: str | None = None,
) -> str:
    """Copy the artifact ``path`` (a file or a folder; '' for all) of ``run_id`` to ``dst_path``
    (default: a new temporary folder) and return the local path of the copy."""
    repo = run_repo(_runs_client(tracking_uri), run_id)
    rel = validate_artifact_path(path)
    dst = Path(dst_path) if dst_path is not None else Path(tempfile.mkdtemp(prefix="trainlab-"))
    # what a failed download removes: the folders it made (the temporary one included)
    made = [dst] if dst_path is None else [p for p in (dst, *dst.parents) if not p.exists()]
    dst.mkdir(parents=True, exist_ok=True)
    try:
        return str(repo.download(rel, dst.absolute()))
    except ResourceNotFound:
        for folder in made:  # innermost first; only if still empty
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise ResourceNotFound(f"Run {run_id} has no artifact {rel!r}.") from None
