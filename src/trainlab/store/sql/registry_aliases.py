"""Alias moves and their audit trail. Each function works inside the caller's unit of work;
every move appends one ``alias_events`` row."""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select
from sqlalchemy.orm import Session

from trainlab.entities import AliasEvent
from trainlab.exceptions import InvalidState, ResourceNotFound
from trainlab.store.sql.models import AliasEventModel, RegisteredModelAliasModel
from trainlab.store.sql.uow import dialect_insert

_A = RegisteredModelAliasModel
_E = AliasEventModel


# Statements built once: building them per move was a third of its time. They leave the
# session's objects as they are (a removed alias stays loaded, unused).
_CURRENT = select(_A.version).where(_A.name == bindparam("name"), _A.alias == bindparam("alias"))
_REMOVE = (
    delete(_A)
    .where(_A.name == bindparam("name"), _A.alias == bindparam("alias"))
    .execution_options(synchronize_session=False)
)
_RECORD = insert(_E)


@functools.cache
def _point(dialect: str) -> Any:
    """Upsert of (name, alias) -> version."""
    stmt = dialect_insert(dialect, _A)
    return stmt.on_conflict_do_update(
        index_elements=["name", "alias"], set_={"version": stmt.excluded.version}
    )


def names(s: Session, name: str) -> list[str]:
    """The aliases the model has now, sorted."""
    return sorted(s.scalars(select(_A.alias).where(_A.name == name)))


def current_version(s: Session, name: str, alias: str) -> int | None:
    version = s.connection().execute(_CURRENT, {"name": name, "alias": alias}).scalar()
    return None if version is None else int(version)


def record(
    s: Session,
    name: str,
    alias: str,
    from_version: int | None,
    to_version: int | None,
    *,
    user: str,
    reason: str,
    timestamp: int,
) -> None:
    s.execute(
        _RECORD,
        {
            "name": name,
            "alias": alias,
            "from_version": from_version,
            "to_version": to_version,
            "user_id": user,
            "reason": reason,
            "timestamp": timestamp,
        },
    )


def move(
    s: Session,
    name: str,
    alias: str,
    to_version: int | None,
    *,
    user: str,
    reason: str,
    timestamp: int,
) -> bool:
    """Point ``alias`` at ``to_version`` (None: remove it). False when nothing moved."""
    before = current_version(s, name, alias)
    if before == to_version:
        return False
    if to_version is None:
        s.execute(_REMOVE, {"name": name, "alias": alias})
    else:
        s.execute(
            _point(s.get_bind().dialect.name), {"name": name, "alias": alias, "version": to_version}
        )
    record(s, name, alias, before, to_version, user=user, reason=reason, timestamp=timestamp)
    return True


def remove_for_version(
    s: Session, name: str, version: int | None, *, user: str, reason: str, timestamp: int
) -> None:
    """Remove the aliases held by one version (all aliases of the model for None)."""
    query = select(_A).where(_A.name == name)
    if version is not None:
        query = query.where(_A.version == version)
    for row in list(s.execute(query).scalars()):
        move(s, name, row.alias, None, user=user, reason=reason, timestamp=timestamp)


# The deletion of a model is kept as an event of no alias: the moves before it are of another
# model (version numbers restart), history to read but never a rollback target.
DELETED = ""
MODEL_DELETED = "registered model deleted"


def record_deleted(s: Session, name: str, timestamp: int) -> None:
    record(s, name, DELETED, None, None, user="", reason=MODEL_DELETED, timestamp=timestamp)


def history(s: Session, name: str, alias: str | None) -> list[AliasEvent]:
    """The moves of ``alias`` (every alias for None), oldest first, with the deletions of
    earlier models of the name (alias ``""``): the moves before one are of another model."""
    query = select(_E).where(_E.name == name)
    if alias is not None:
        query = query.where(_E.alias.in_((alias, DELETED)))
    return [
        AliasEvent(
            name=e.name,
            alias=e.alias,
            from_version=e.from_version,
            to_version=e.to_version,
            user=e.user_id,
            reason=e.reason,
            timestamp=e.timestamp,
            event_id=e.event_id,
        )
        for e in s.execute(query.order_by(_E.event_id)).scalars()
    ]


def rollback_target(s: Session, name: str, alias: str) -> int:
    """The version ``alias`` held before its last move since the model was made (a deleted
    model of the same name had other versions under the same numbers)."""
    deleted = s.execute(
        select(func.max(_E.event_id)).where(_E.name == name, _E.alias == DELETED)
    ).scalar()
    last = s.execute(
        select(_E)
        .where(_E.name == name, _E.alias == alias, _E.event_id > (deleted or 0))
        .order_by(_E.event_id.desc())
        .limit(1)
    ).scalar()
    if last is None:
        raise ResourceNotFound(f"Alias '{alias}' of registered model '{name}' was never set.")
    if last.from_version is None:
        raise InvalidState(
            f"Alias '{alias}' of registered model '{name}' has no previous version to roll "
            f"back to: its last move set it for the first time (to version {last.to_version})."
        )
    return last.from_version
