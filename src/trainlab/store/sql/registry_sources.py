"""Model version sources: checked against the run / logged model they claim to come from, and
resolved to the URI the artifacts are downloaded from."""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from trainlab.artifacts.paths import proxied_path
from trainlab.exceptions import InvalidParameterValue, ResourceNotFound
from trainlab.store.sql import registry_rules as rules
from trainlab.store.sql.models import LoggedModelModel, RunModel

_RUN_ROOT = select(RunModel.artifact_uri).where(RunModel.run_id == bindparam("run_id"))


def _run_exists(s: Session, run_id: str) -> bool:
    return s.connection().execute(_RUN_ROOT, {"run_id": run_id}).first() is not None


def _run_root(s: Session, run_id: str) -> str:
    """The run's artifact root; the run must exist."""
    root = s.connection().execute(_RUN_ROOT, {"run_id": run_id}).scalar()
    if root is None:
        raise ResourceNotFound(f"Run with id={run_id} not found.")
    return str(root)


def _run_logged_model_root(s: Session, run_id: str, name: str) -> str | None:
    """The artifact root of the newest live logged model called ``name`` that the run made."""
    query = (
        select(LoggedModelModel.artifact_uri)
        .join(RunModel, RunModel.experiment_id == LoggedModelModel.experiment_id)
        .where(
            RunModel.run_id == run_id,
            LoggedModelModel.source_run_id == run_id,
            LoggedModelModel.name == name,
            LoggedModelModel.lifecycle_stage == "active",
        )
        .order_by(LoggedModelModel.creation_timestamp.desc())
        .limit(1)
    )
    root = s.execute(query).scalar()
    return None if root is None else str(root)


def _logged_model(s: Session, model_id: str, deleted_too: bool = False) -> LoggedModelModel:
    """The logged model; a deleted one only with ``deleted_too`` (a version made of it before
    it was deleted still downloads; no new version is made of it)."""
    model = s.get(LoggedModelModel, model_id)
    if model is None or (model.lifecycle_stage == "deleted" and not deleted_too):
        raise ResourceNotFound(f"Logged model with ID '{model_id}' not found.")
    return model


def check_source(
    s: Session, source: str, run_id: str | None, model_id: str | None
) -> tuple[str | None, str | None]:
    """Safe (see ``registry_rules``); a ``runs:/`` source names ``run_id``; a local source lies
    under the artifact folder of ``run_id`` or ``model_id``, and so does a ``mlflow-artifacts:``
    source. Given neither id, a ``mlflow-artifacts:`` source must lie in the folder of a run or
    logged model its path names: ``(run_id, model_id)`` of that owner, for the version's lineage
    (``(None, None)`` otherwise)."""
    rules.check_source_safe(source)
    roots: list[str] = []
    if run_id:
        roots.append(_run_root(s, run_id))
    if model_id:
        roots.append(_logged_model(s, model_id).artifact_uri)
    from_run = rules.runs_source(source)
    if from_run is not None:
        if run_id and from_run[0] != run_id:
            raise InvalidParameterValue(
                f"Invalid model version source {source!r}: it names run {from_run[0]!r} but "
                f"run_id is {run_id!r}."
            )
        if not run_id:
            _run_root(s, from_run[0])
        return None, None
    from_model = rules.logged_model_source(source)
    if from_model is not None:
        _logged_model(s, from_model[0])
        return None, None
    if rules.is_local_source(source):
        rules.check_local_source(source, roots)
    elif (path := proxied_path(source)) is not None:
        return _check_proxied_source(s, source, path, roots)
    return None, None


def _check_proxied_source(
    s: Session, source: str, path: str, roots: list[str]
) -> tuple[str | None, str | None]:
    """A ``mlflow-artifacts:`` source at ``path`` lies under one of ``roots`` (those of the ids
    given) or, with no ids, under the folder of a run or logged model named in ``path``."""
    if roots:
        if any(_proxied_under(path, root) for root in roots):
            return None, None
        raise rules.invalid_source(
            source, "it must lie inside the artifact folder of its run or logged model"
        )
    names = set(path.split("/"))
    runs = s.execute(
        select(RunModel.run_id, RunModel.artifact_uri).where(RunModel.run_id.in_(names))
    )
    for owner, root in runs:
        if _proxied_under(path, root):
            return owner, None
    models = s.execute(
        select(LoggedModelModel.model_id, LoggedModelModel.artifact_uri).where(
            LoggedModelModel.model_id.in_(names)
        )
    )
    for owner, root in models:
        if _proxied_under(path, root):
            return None, owner
    raise rules.invalid_source(
        source,
        "a mlflow-artifacts: source must lie inside the artifact folder of a run or logged "
        "model; give its run_id (or model_id)",
    )


def _proxied_under(path: str, root: str) -> bool:
    root_path = proxied_path(root)
    if root_path is None:
        return False
    return rules.is_under("/" + path, "/" + root_path)


def download_uri(s: Session, source: str) -> str:
    """``runs:/`` and ``models:/m-`` sources resolve to the run's / logged model's artifacts.
    ``runs:/<run>/<name>/...`` names, as for the mlflow client, the newest logged model of the
    run called ``name`` (MLflow 3 keeps a model's files there), else the run's own files."""
    from_run = rules.runs_source(source)
    if from_run is not None:
        run_id, path = from_run
        name, _, rest = path.partition("/")
        root = _run_logged_model_root(s, run_id, name) if name else None
        if root is None:
            root, rest = _run_root(s, run_id), path
        return "/".join(p for p in (root.rstrip("/"), rest) if p)
    from_model = rules.logged_model_source(source)
    if from_model is not None:
        root = _logged_model(s, from_model[0], deleted_too=True).artifact_uri
        return "/".join(p for p in (root.rstrip("/"), from_model[1]) if p)
    return source


def infer_lineage(
    s: Session, source: str, run_id: str | None, model_id: str | None
) -> tuple[str | None, str | None]:
    """``(run_id, model_id)`` of a new version: as given, else from a ``runs:/`` or
    ``models:/m-`` source, and the run from the logged model's source run (MLflow 3's
    ``log_model(registered_model_name=...)`` sends only the model id)."""
    if model_id is None and (from_model := rules.logged_model_source(source)):
        model_id = from_model[0]
    if run_id is None and (from_run := rules.runs_source(source)):
        run_id = from_run[0]
    if run_id is None and model_id is not None:
        run_id = _logged_model(s, model_id).source_run_id
        if run_id is not None and not _run_exists(s, run_id):
            run_id = None
    return run_id, model_id
