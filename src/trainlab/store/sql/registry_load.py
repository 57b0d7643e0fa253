"""Rows of the registry tables -> entities, a fixed number of queries per page."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import and_, func, select, tuple_
from sqlalchemy.orm import Session

from trainlab.entities import ModelVersion, ModelVersionStatus, RegisteredModel
from trainlab.entities.registry import STAGES
from trainlab.store.sql.models import (
    ModelVersionModel,
    ModelVersionTagModel,
    RegisteredModelAliasModel,
    RegisteredModelModel,
    RegisteredModelTagModel,
)

_MV = ModelVersionModel


def load_versions(s: Session, rows: Sequence[ModelVersionModel]) -> list[ModelVersion]:
    keys = [(r.name, r.version) for r in rows]
    if not keys:
        return []
    names = sorted({r.name for r in rows})
    tags: dict[tuple[str, int], dict[str, str]] = {k: {} for k in keys}
    aliases: dict[tuple[str, int], list[str]] = {k: [] for k in keys}
    t = ModelVersionTagModel
    for tag in s.execute(select(t).where(tuple_(t.name, t.version).in_(keys))).scalars():
        tags[(tag.name, tag.version)][tag.key] = tag.value
    a = RegisteredModelAliasModel
    query = select(a).where(a.name.in_(names)).order_by(a.alias)
    for alias in s.execute(query).scalars():
        if (alias.name, alias.version) in aliases:
            aliases[(alias.name, alias.version)].append(alias.alias)
    return [
        ModelVersion(
            name=r.name,
            version=r.version,
            creation_timestamp=r.creation_timestamp,
            last_updated_timestamp=r.last_updated_timestamp,
            source=r.source,
            user_id=r.user_id,
            current_stage=r.current_stage,
            description=r.description,
            run_id=r.run_id,
            status=ModelVersionStatus(r.status),
            status_message=r.status_message,
            tags=tags[(r.name, r.version)],
            run_link=r.run_link,
            aliases=aliases[(r.name, r.version)],
            model_id=r.model_id,
        )
        for r in rows
    ]


def latest_per_stage(
    s: Session, names: Sequence[str], stages: Sequence[str] = ()
) -> dict[str, list[ModelVersion]]:
    """For each model, its newest version in each stage (all stages when ``stages`` is empty),
    in MLflow's stage order. The database picks them: a model with thousands of versions
    loads only its few newest."""
    newest = select(_MV.name, _MV.current_stage, func.max(_MV.version).label("version")).where(
        _MV.name.in_(names)
    )
    if stages:
        newest = newest.where(_MV.current_stage.in_(stages))
    picked = newest.group_by(_MV.name, _MV.current_stage).subquery()
    query = select(_MV).join(
        picked, and_(_MV.name == picked.c.name, _MV.version == picked.c.version)
    )
    order = {stage: i for i, stage in enumerate(STAGES)}
    chosen = sorted(
        s.execute(query).scalars(), key=lambda r: (r.name, order.get(r.current_stage, 9))
    )
    out: dict[str, list[ModelVersion]] = {n: [] for n in names}
    for version in load_versions(s, chosen):
        out[version.name].append(version)
    return out


def load_models(s: Session, rows: Sequence[RegisteredModelModel]) -> list[RegisteredModel]:
    names = [r.name for r in rows]
    if not names:
        return []
    tags: dict[str, dict[str, str]] = {n: {} for n in names}
    aliases: dict[str, dict[str, int]] = {n: {} for n in names}
    t = RegisteredModelTagModel
    for tag in s.execute(select(t).where(t.name.in_(names))).scalars():
        tags[tag.name][tag.key] = tag.value
    a = RegisteredModelAliasModel
    for alias in s.execute(select(a).where(a.name.in_(names)).order_by(a.alias)).scalars():
        aliases[alias.name][alias.alias] = alias.version
    latest = latest_per_stage(s, names)
    return [
        RegisteredModel(
            name=r.name,
            creation_timestamp=r.creation_timestamp,
            last_updated_timestamp=r.last_updated_timestamp,
            user_id=r.user_id,
            description=r.description,
            tags=tags[r.name],
            aliases=aliases[r.name],
            latest_versions=latest[r.name],
        )
        for r in rows
    ]
