"""Model URIs -> a local model folder: ``runs:/<run>/<path>``, ``models:/<name>/<version>``,
``models:/<name>@<alias>``, ``models:/<name>/<stage>``, ``models:/m-<id>``, a local folder."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from trainlab._text import listing
from trainlab.artifacts.paths import validate_artifact_path
from trainlab.client.artifact_repo import repo_for
from trainlab.entities.logged_model import LOGGED_MODEL_ID
from trainlab.entities.paging import every_page
from trainlab.exceptions import InvalidParameterValue, ResourceNotFound
from trainlab.models.mlmodel import MLMODEL
from trainlab.store._base import BaseTrackingStore

if TYPE_CHECKING:
    from trainlab.entities import LoggedModel, Run

_STAGES = {"none", "staging", "production", "archived", "latest"}


def _fresh_dir(dst: Path | None) -> Path:
    out = dst if dst is not None else Path(tempfile.mkdtemp(prefix="trainlab-model-"))
    out.mkdir(parents=True, exist_ok=True)
    return out


def _download(store: BaseTrackingStore, artifact_uri: str, path: str, dst: Path | None) -> Path:
    rel = validate_artifact_path(path)
    return repo_for(artifact_uri.rstrip("/"), store).download(rel, _fresh_dir(dst))


def _logged_model_dir(store: BaseTrackingStore, model_id: str, path: str, dst: Path | None) -> Path:
    from trainlab.client.rest_logged_models import logged_models_for

    model = logged_models_for(store).get_logged_model(model_id)
    return _download(store, model.artifact_uri, path, dst)


def _run_model_dir(store: BaseTrackingStore, run_id: str, path: str, dst: Path | None) -> Path:
    """The run's own artifacts at ``path``, else (MLflow 3) the logged model of that run named
    by the first segment of ``path``."""
    run = store.get_run(run_id)
    rel = validate_artifact_path(path)
    repo = repo_for(run.info.artifact_uri, store)
    if rel and any(f.path == f"{rel}/{MLMODEL}" for f in repo.list(rel)):
        return repo.download(rel, _fresh_dir(dst))
    name, _, rest = rel.partition("/")
    missing = (
        f"Run {run_id} has no model at {rel!r}: neither an MLmodel in its artifacts nor a "
        f"logged model named {name!r}."
    )
    model = run_logged_model(run, name, store, missing)
    return _download(store, model.artifact_uri, rest, dst)


def run_logged_models(
    store: BaseTrackingStore, run_id: str, experiment_id: str
) -> list[LoggedModel]:
    """The logged models (not deleted) that run ``run_id`` produced, oldest first: those
    ``runs:/<run_id>/<name>`` names."""
    from trainlab.client.rest_logged_models import logged_models_for

    models = logged_models_for(store)
    oldest_first = [{"field_name": "creation_timestamp", "ascending": True}]
    return list(
        every_page(
            lambda token: models.search_logged_models(
                [experiment_id], f"source_run_id = '{run_id}'", 100, oldest_first, token
            )
        )
    )


def run_logged_model(run: Run, name: str, store: BaseTrackingStore, missing: str) -> LoggedModel:
    """The newest logged model named ``name`` that ``run`` produced; none is refused with
    ``missing`` followed by the names of the models the run has."""
    models = run_logged_models(store, run.info.run_id, run.info.experiment_id)
    named = [m for m in models if m.name == name]
    if named:
        return named[-1]
    names = sorted({m.name for m in models})
    has = f"Its logged models: {listing(names)}." if names else "It has no logged models."
    raise ResourceNotFound(f"{missing} {has}")


def _registered_source(store: BaseTrackingStore, spec: str) -> str:
    from trainlab.client.resolve import registry_for

    registry = registry_for(store)
    if "@" in spec:
        name, _, alias = spec.partition("@")
        if not alias:
            raise InvalidParameterValue(
                f"Invalid model URI 'models:/{spec}': no alias after '@' (models:/<name>@<alias>)."
            )
        version = registry.get_model_version_by_alias(name, alias).version
    else:
        name, _, ver = spec.rpartition("/")
        if not name:
            raise InvalidParameterValue(
                f"Invalid model URI 'models:/{spec}': use models:/<name>/<version>, "
                "models:/<name>@<alias> or models:/m-<logged model id>."
            )
        if ver.isdigit():
            version = int(ver)
        elif ver.lower() in _STAGES:
            stages = [] if ver.lower() == "latest" else [ver.capitalize()]
            latest = registry.get_latest_versions(name, stages)
            if not latest:
                raise ResourceNotFound(f"Registered model {name!r} has no version in {ver!r}.")
            version = max(v.version for v in latest)
        else:
            raise InvalidParameterValue(
                f"Invalid model version {ver!r} in 'models:/{spec}': use a number, an alias "
                "(models:/<name>@<alias>) or a stage."
            )
    return registry.get_model_version_download_uri(name, version)


def logged_model_id(uri: str) -> str | None:
    """The logged model id of a ``models:/m-<id>`` URI, else None."""
    head = uri.removeprefix("models:/").strip("/")
    return head if uri.startswith("models:/") and LOGGED_MODEL_ID.fullmatch(head) else None


def download_model(uri: str, store: BaseTrackingStore, dst: Path | None = None) -> Path:
    """The local folder holding the model ``uri`` names (downloaded when it is remote)."""
    if uri.startswith("runs:/"):
        rest = uri[len("runs:/") :].lstrip("/")
        run_id, _, path = rest.partition("/")
        if not run_id or not path:
            raise InvalidParameterValue(f"Invalid model URI {uri!r}: use runs:/<run_id>/<path>.")
        return _run_model_dir(store, run_id, path, dst)
    if uri.startswith("models:/"):
        spec = uri[len("models:/") :].lstrip("/")
        head, _, sub = spec.partition("/")
        if LOGGED_MODEL_ID.fullmatch(head):
            return _logged_model_dir(store, head, sub, dst)
        source = _registered_source(store, spec)
        if source.startswith(("runs:/", "models:/")):
            return download_model(source, store, dst)
        return _download(store, source, "", dst)
    if uri.startswith("file:"):
        return Path(url2pathname(unquote(urlsplit(uri).path)))
    if uri.startswith("mlflow-artifacts:"):
        return _download(store, uri, "", dst)
    if "://" in uri or ":/" in uri.split("/", 1)[0]:
        raise InvalidParameterValue(
            f"Unsupported model URI {uri!r}: use runs:/, models:/, a mlflow-artifacts: URI or a "
            "local folder."
        )
    return Path(uri)
