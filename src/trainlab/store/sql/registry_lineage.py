"""Lineage of a model version, found when it is created: the run, the logged model, the run's
dataset digests and its git commit (stored as ``trainlab.lineage.*`` version tags, read back as
the version's ``lineage``, apart from its tags). The logged model, in turn, lists the versions
registered from it (``mlflow.modelVersions``)."""

from __future__ import annotations

import json

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from trainlab.entities.tags import GIT_COMMIT_TAG, MODEL_VERSIONS_TAG
from trainlab.store.sql.models import (
    DatasetModel,
    LoggedModelModel,
    LoggedModelTagModel,
    RunInputModel,
    TagModel,
)
from trainlab.store.sql.uow import upsert_insert

_GIT_COMMIT = select(TagModel.value).where(
    TagModel.run_id == bindparam("run_id"), TagModel.key == GIT_COMMIT_TAG
)
_DATASETS = (
    select(DatasetModel.name, DatasetModel.digest)
    .join(RunInputModel, RunInputModel.dataset_id == DatasetModel.dataset_id)
    .where(RunInputModel.run_id == bindparam("run_id"))
    .order_by(DatasetModel.name, DatasetModel.digest)
)


def version_lineage(s: Session, run_id: str | None, model_id: str | None) -> dict[str, str]:
    """What a new version of ``run_id``'s ``model_id`` comes from: the run, the logged model,
    the run's git commit and datasets (``name@digest``, comma-separated)."""
    out: dict[str, str] = {}
    if model_id:
        out["model_id"] = model_id
    if not run_id:
        return out
    out["run_id"] = run_id
    conn = s.connection()
    commit = conn.execute(_GIT_COMMIT, {"run_id": run_id}).scalar()
    if commit:
        out["git_commit"] = commit
    datasets = conn.execute(_DATASETS, {"run_id": run_id}).all()
    if datasets:
        out["datasets"] = ",".join(f"{n}@{d}" for n, d in datasets)
    return out


def list_version_on_model(s: Session, model_id: str, name: str, version: int) -> None:
    """Add ``{"name", "version"}`` to the logged model's ``mlflow.modelVersions`` tag (a JSON
    list), as MLflow's server does when a version names its logged model."""
    conn = s.connection()
    # The row lock (PostgreSQL) keeps two registrations of one model from losing each other's
    # entry; SQLite writers hold the database lock anyway.
    model = (
        select(LoggedModelModel.model_id)
        .where(LoggedModelModel.model_id == model_id)
        .with_for_update()
    )
    if conn.execute(model).first() is None:
        return  # deleted since: nothing to tag
    tag = (LoggedModelTagModel.model_id == model_id, LoggedModelTagModel.key == MODEL_VERSIONS_TAG)
    known = _entries(conn.execute(select(LoggedModelTagModel.value).where(*tag)).scalar())
    value = json.dumps(_distinct([*known, {"name": name, "version": str(version)}]))
    conn.execute(
        upsert_insert(s, LoggedModelTagModel)
        .values(model_id=model_id, key=MODEL_VERSIONS_TAG, value=value)
        .on_conflict_do_update(index_elements=["model_id", "key"], set_={"value": value})
    )


def distinct_model_versions(value: str) -> str:
    """An ``mlflow.modelVersions`` value set by a client, each version once: MLflow's client
    appends the version its server already listed (``mlflow.register_model``)."""
    entries = _entries(value)
    return json.dumps(_distinct(entries)) if entries else value


def _entries(text: str | None) -> list[object]:
    try:
        entries = json.loads(text) if text else []
    except ValueError:
        return []
    return entries if isinstance(entries, list) else []


def _distinct(entries: list[object]) -> list[object]:
    seen: set[tuple[str, str]] = set()
    out = []
    for entry in entries:
        if isinstance(entry, dict):
            key = (str(entry.get("name")), str(entry.get("version")))
            if key in seen:
                continue
            seen.add(key)
        out.append(entry)
    return out
