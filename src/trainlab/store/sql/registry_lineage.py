"""Lineage of a model version, recorded as ``trainlab.lineage.*`` version tags when it is
created: the run, the logged model, the run's dataset digests and its git commit."""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from trainlab.entities.registry import LINEAGE_TAG_PREFIX
from trainlab.entities.tags import GIT_COMMIT_TAG
from trainlab.store.sql.models import DatasetModel, RunInputModel, TagModel

_GIT_COMMIT = select(TagModel.value).where(
    TagModel.run_id == bindparam("run_id"), TagModel.key == GIT_COMMIT_TAG
)
_DATASETS = (
    select(DatasetModel.name, DatasetModel.digest)
    .join(RunInputModel, RunInputModel.dataset_id == DatasetModel.dataset_id)
    .where(RunInputModel.run_id == bindparam("run_id"))
    .order_by(DatasetModel.name, DatasetModel.digest)
)


def lineage_tags(s: Session, run_id: str | None, model_id: str | None) -> dict[str, str]:
    out: dict[str, str] = {}
    if model_id:
        out[LINEAGE_TAG_PREFIX + "model_id"] = model_id
    if not run_id:
        return out
    out[LINEAGE_TAG_PREFIX + "run_id"] = run_id
    conn = s.connection()
    commit = conn.execute(_GIT_COMMIT, {"run_id": run_id}).scalar()
    if commit:
        out[LINEAGE_TAG_PREFIX + "git_commit"] = commit
    datasets = conn.execute(_DATASETS, {"run_id": run_id}).all()
    if datasets:
        out[LINEAGE_TAG_PREFIX + "datasets"] = ",".join(f"{n}@{d}" for n, d in datasets)
    return out
