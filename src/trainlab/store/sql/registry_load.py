"""Rows of the registry tables -> entities, a fixed number of queries per page.

Reads go through SQLAlchemy Core (plain rows, no ORM objects), mostly with statements built once
(bound parameters): building a statement and the ORM's work per statement were most of the time
of a registry read."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, and_, bindparam, func, literal, or_, select, true, union_all
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter

from trainlab.entities import ModelVersion, ModelVersionStatus, RegisteredModel
from trainlab.entities.registry import LINEAGE_TAG_PREFIX, STAGES
from trainlab.store.sql.models import (
    ModelVersionModel,
    ModelVersionTagModel,
    RegisteredModelAliasModel,
    RegisteredModelModel,
    RegisteredModelTagModel,
)

_MV = ModelVersionModel
_RM = RegisteredModelModel
# Selects of whole rows, read as plain rows with the ORM models' attribute names.
VERSION_ROWS = select(*_MV.__table__.c)
MODEL_ROWS = select(*_RM.__table__.c)
MODEL_ROW = MODEL_ROWS.where(_RM.name == bindparam("name"))
MODEL_ROW_LOCKED = MODEL_ROW.with_for_update()
VERSION_ROW = VERSION_ROWS.where(_MV.name == bindparam("name"), _MV.version == bindparam("version"))

_VT = ModelVersionTagModel
_A = RegisteredModelAliasModel
_T = RegisteredModelTagModel
_NAMES: BindParameter[Any] = bindparam("names", expanding=True)
_ONE_MODEL_VERSION_TAGS = select(_VT.name, _VT.version, _VT.key, _VT.value).where(
    _VT.name == bindparam("name"), _VT.version.in_(bindparam("versions", expanding=True))
)
_ALIASES = select(_A.name, _A.version, _A.alias).where(_A.name.in_(_NAMES)).order_by(_A.alias)
_MODEL_TAGS = select(_T.name, _T.key, _T.value).where(_T.name.in_(_NAMES))


def rows(s: Session, query: Any, params: dict[str, Any] | None = None) -> list[Row[Any]]:
    return list(s.connection().execute(query, params or {}))


def _version_tags(s: Session, keys: Sequence[tuple[str, int]]) -> list[Row[Any]]:
    """Tags of the ``(name, version)`` keys: an index seek per model and version."""
    by_name: dict[str, list[int]] = defaultdict(list)
    for name, version in keys:
        by_name[name].append(version)
    if len(by_name) == 1:
        ((name, versions),) = by_name.items()
        return rows(s, _ONE_MODEL_VERSION_TAGS, {"name": name, "versions": versions})
    clause = or_(*(and_(_VT.name == n, _VT.version.in_(vs)) for n, vs in by_name.items()))
    return rows(s, select(_VT.name, _VT.version, _VT.key, _VT.value).where(clause))


def load_versions(s: Session, found: Sequence[Any]) -> list[ModelVersion]:
    """Entities of version rows (plain rows or ORM objects)."""
    keys = [(r.name, r.version) for r in found]
    if not keys:
        return []
    tags: dict[tuple[str, int], dict[str, str]] = {k: {} for k in keys}
    lineage: dict[tuple[str, int], dict[str, str]] = {k: {} for k in keys}
    aliases: dict[tuple[str, int], list[str]] = {k: [] for k in keys}
    for name, version, key, value in _version_tags(s, keys):
        if key.startswith(LINEAGE_TAG_PREFIX):
            lineage[(name, version)][key[len(LINEAGE_TAG_PREFIX) :]] = value
        else:
            tags[(name, version)][key] = value
    names = sorted({r.name for r in found})
    for name, version, alias in rows(s, _ALIASES, {"names": names}):
        if (name, version) in aliases:
            aliases[(name, version)].append(alias)
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
            storage_location=r.storage_location,
            lineage=lineage[(r.name, r.version)],
        )
        for r in found
    ]


def _newest_per_stage(stages: Sequence[str]) -> Any:
    """Rows of the newest version of each model named in the bound ``names``, in each of
    ``stages``."""
    wanted = union_all(*(select(literal(stage).label("stage")) for stage in stages))
    stage = wanted.subquery("stage")
    newest = (
        select(func.max(_MV.version))
        .where(_MV.name == _RM.name, _MV.current_stage == stage.c.stage)
        .scalar_subquery()
    )
    picked = (
        select(_RM.name, newest.label("version"))
        .join(stage, true())
        .where(_RM.name.in_(_NAMES))
        .subquery()
    )
    return VERSION_ROWS.join(
        picked, and_(_MV.name == picked.c.name, _MV.version == picked.c.version)
    )


_NEWEST_PER_STAGE = _newest_per_stage(STAGES)


def latest_per_stage(
    s: Session, names: Sequence[str], stages: Sequence[str] = ()
) -> dict[str, list[ModelVersion]]:
    """For each model, its newest version in each stage (all stages when ``stages`` is empty),
    in version order (as MLflow lists them): one index seek per model and stage, however many
    versions the model has."""
    query = _newest_per_stage(stages) if stages else _NEWEST_PER_STAGE
    found = rows(s, query, {"names": list(names)})
    found.sort(key=lambda r: (r.name, r.version))
    out: dict[str, list[ModelVersion]] = {n: [] for n in names}
    for version in load_versions(s, found):
        out[version.name].append(version)
    return out


def load_models(s: Session, found: Sequence[Any]) -> list[RegisteredModel]:
    """Entities of registered model rows (plain rows or ORM objects)."""
    names = [r.name for r in found]
    if not names:
        return []
    tags: dict[str, dict[str, str]] = {n: {} for n in names}
    aliases: dict[str, dict[str, int]] = {n: {} for n in names}
    for name, key, value in rows(s, _MODEL_TAGS, {"names": names}):
        tags[name][key] = value
    for name, version, alias in rows(s, _ALIASES, {"names": names}):
        aliases[name][alias] = version
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
        for r in found
    ]
