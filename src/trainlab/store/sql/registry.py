"""SQL model registry: registered models, versions (numbered per model, never reused), stages
and aliases with their audit trail. Runs and logged models are looked up through the tracking
store's engine (the same database)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal, TypeVar

from sqlalchemy import ColumnElement, Row, Select, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from trainlab.entities import (
    AliasEvent,
    ModelVersion,
    ModelVersionStatus,
    PagedList,
    RegisteredModel,
)
from trainlab.entities.paging import decode_page_token, encode_page_token
from trainlab.entities.registry import LINEAGE_TAG_PREFIX, STAGES, is_prompt
from trainlab.exceptions import (
    InvalidParameterValue,
    InvalidState,
    ResourceAlreadyExists,
    ResourceNotFound,
)
from trainlab.store import search
from trainlab.store._base import (
    REGISTRY_SEARCH_LIMIT,
    REGISTRY_SEARCH_MAX_RESULTS,
    VERSIONS_SEARCH_LIMIT,
    VERSIONS_SEARCH_MAX_RESULTS,
    BaseRegistryStore,
)
from trainlab.store.sql import registry_aliases as aliases
from trainlab.store.sql import registry_rules as rules
from trainlab.store.sql.models import (
    AliasEventModel,
    ModelVersionModel,
    ModelVersionTagModel,
    RegisteredModelModel,
    RegisteredModelTagModel,
)
from trainlab.store.sql.registry_lineage import list_version_on_model, version_lineage
from trainlab.store.sql.registry_load import (
    MODEL_ROW,
    MODEL_ROW_LOCKED,
    VERSION_ROW,
    latest_per_stage,
    load_models,
    load_versions,
)
from trainlab.store.sql.registry_sources import check_source, download_uri, infer_lineage
from trainlab.store.sql.tracking import SqlTrackingStore
from trainlab.store.sql.uow import unit_of_work, upsert_insert

T = TypeVar("T")
R = TypeVar("R")
_RM = RegisteredModelModel
_MV = ModelVersionModel
# The statements of creating a version, built once.
_NEXT_VERSION = (
    update(_RM)
    .where(_RM.name == bindparam("model"))
    .values(last_version=_RM.last_version + 1, last_updated_timestamp=bindparam("now"))
    .returning(_RM.last_version)
)
_INSERT_VERSION = insert(_MV)
_INSERT_VERSION_TAG = insert(ModelVersionTagModel)
# Built once; the session's objects are not updated by them (the stores read plain rows).
_TOUCH = (
    update(_RM)
    .where(_RM.name == bindparam("model"))
    .values(last_updated_timestamp=bindparam("t"))
    .execution_options(synchronize_session=False)
)


def _version_values(v: ModelVersion) -> dict[str, Any]:
    """The row of a version: the entity's fields are named as the table's columns."""
    values = {c.name: getattr(v, c.name) for c in _MV.__table__.c}
    values["status"] = v.status.value
    return values


def _found(s: Session, row: R | None, name: str, number: int) -> R:
    """``row``, or MLflow's message followed by what there is: no such model (a typo in the
    name), or the versions the model has."""
    if row is not None:
        return row
    numbers = sorted(s.scalars(select(_MV.version).where(_MV.name == name)))
    if numbers:
        what = f"{name!r} has versions {', '.join(map(str, numbers))}"
        if len(numbers) > 10:
            what = f"{name!r} has {len(numbers)} versions, {numbers[0]} to {numbers[-1]}"
    elif s.connection().execute(MODEL_ROW, {"name": name}).first() is None:
        what = f"there is no registered model {name!r}"
    else:
        what = f"{name!r} has no versions"
    raise ResourceNotFound(f"Model Version (name={name}, version={number}) not found: {what}.")


class SqlRegistryStore(BaseRegistryStore):
    def __init__(self, tracking: SqlTrackingStore) -> None:
        self.tracking = tracking
        self.engine = tracking.engine
        self.clock = tracking.clock

    # -- helpers -----------------------------------------------------------------------------
    @staticmethod
    def _model_row(s: Session, name: str, lock: bool = False) -> Row[Any]:
        """The model's row (a plain row); the model must exist. ``lock`` holds the row until
        the unit of work ends, so that moves of its aliases happen one after the other and
        each records the version it really moved from (PostgreSQL; a SQLite writer holds the
        whole database already)."""
        rules.validate_model_name(name)
        query = MODEL_ROW_LOCKED if lock else MODEL_ROW
        row = s.connection().execute(query, {"name": name}).first()
        if row is None:
            raise ResourceNotFound(f"Registered Model with name={name} not found")
        return row

    @staticmethod
    def _version_number(name: str, version: int | str) -> int:
        rules.validate_model_name(name)
        return rules.parse_version(version)

    @classmethod
    def _version_record(cls, s: Session, name: str, version: int | str) -> Row[Any]:
        """The version's row, read as a plain row (for reads)."""
        number = cls._version_number(name, version)
        row = s.connection().execute(VERSION_ROW, {"name": name, "version": number}).first()
        return _found(s, row, name, number)

    @classmethod
    def _version_row(cls, s: Session, name: str, version: int | str) -> ModelVersionModel:
        """The version's row as an ORM object, for changes to it."""
        number = cls._version_number(name, version)
        return _found(s, s.get(_MV, (name, number)), name, number)

    def _touch(self, s: Session, name: str) -> int:
        t = self.clock()
        s.execute(_TOUCH, {"model": name, "t": t})
        return t

    def _page(
        self,
        query: Select[Any],
        clause: ColumnElement[bool] | None,
        order: list[ColumnElement[Any]],
        max_results: int,
        page_token: str | None,
        load: Callable[[Session, Sequence[Any]], list[T]],
    ) -> PagedList[T]:
        """One page: one query (plus the loader's fixed number), offset tokens as MLflow's."""
        offset = decode_page_token(page_token)
        if clause is not None:
            query = query.where(clause)
        query = query.order_by(*order).offset(offset).limit(max_results + 1)
        with unit_of_work(self.engine, write=False) as s:
            rows = list(s.execute(query).scalars())
            items = load(s, rows[:max_results])
        more = len(rows) > max_results
        return PagedList(items, encode_page_token(offset + max_results) if more else None)

    def _version(self, s: Session, row: ModelVersionModel) -> ModelVersion:
        s.flush()
        return load_versions(s, [row])[0]

    # -- registered models -------------------------------------------------------------------
    def create_registered_model(
        self,
        name: str,
        tags: dict[str, str] | None = None,
        description: str | None = None,
        user_id: str = "",
    ) -> RegisteredModel:
        rules.validate_new_model_name(name)
        for k, v in (tags or {}).items():
            rules.validate_registry_tag(k, v)
        rules.validate_description(description or "")
        with unit_of_work(self.engine) as s:
            t = self.clock()
            created = s.execute(
                upsert_insert(s, _RM)
                .values(
                    name=name,
                    creation_timestamp=t,
                    last_updated_timestamp=t,
                    user_id=user_id or "",
                    description=description or "",
                    last_version=0,
                )
                .on_conflict_do_nothing(index_elements=["name"])
                .returning(_RM.name)
            ).scalar()
            if created is None:  # the name is taken, possibly by a concurrent request
                raise ResourceAlreadyExists(f"Registered Model (name={name}) already exists.")
            s.add_all(
                RegisteredModelTagModel(name=name, key=k, value=v) for k, v in (tags or {}).items()
            )
            s.flush()
            return load_models(s, [s.get_one(_RM, name)])[0]

    def get_registered_model(self, name: str) -> RegisteredModel:
        with unit_of_work(self.engine, write=False) as s:
            return load_models(s, [self._model_row(s, name)])[0]

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        rules.validate_new_model_name(new_name, "new registered model name")
        with unit_of_work(self.engine) as s:
            self._model_row(s, name)
            if new_name == name:
                return load_models(s, [self._model_row(s, name)])[0]
            if s.get(_RM, new_name) is not None:
                raise ResourceAlreadyExists(f"Registered Model (name={new_name}) already exists.")
            # Versions, tags and aliases follow through ON UPDATE CASCADE; as in MLflow, the
            # versions count as updated too (their default search order is by that time).
            now = self.clock()
            s.execute(
                update(_RM)
                .where(_RM.name == name)
                .values(name=new_name, last_updated_timestamp=now)
            )
            s.execute(update(_MV).where(_MV.name == new_name).values(last_updated_timestamp=now))
            s.execute(
                update(AliasEventModel).where(AliasEventModel.name == name).values(name=new_name)
            )
            return load_models(s, [self._model_row(s, new_name)])[0]

    def update_registered_model(self, name: str, description: str) -> RegisteredModel:
        rules.validate_description(description)
        with unit_of_work(self.engine) as s:
            self._model_row(s, name)
            s.execute(
                update(_RM)
                .where(_RM.name == name)
                .values(description=description, last_updated_timestamp=self.clock())
            )
            return load_models(s, [self._model_row(s, name)])[0]

    def delete_registered_model(self, name: str) -> None:
        with unit_of_work(self.engine) as s:
            self._model_row(s, name, lock=True)
            t = self.clock()
            aliases.remove_for_version(
                s, name, None, user="", reason=aliases.MODEL_DELETED, timestamp=t
            )
            aliases.record_deleted(s, name, t)
            s.flush()
            s.execute(delete(_RM).where(_RM.name == name))  # versions etc. cascade

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = REGISTRY_SEARCH_MAX_RESULTS,
        order_by: Sequence[str] = (),
        page_token: str | None = None,
    ) -> PagedList[RegisteredModel]:
        rules.check_max_results(max_results, REGISTRY_SEARCH_LIMIT)
        clause = search.registered_models_filter(filter_string)
        order = search.registered_models_order_by(order_by)
        return self._page(select(_RM), clause, order, max_results, page_token, load_models)

    def set_registered_model_tag(self, name: str, key: str, value: str) -> None:
        rules.validate_registry_tag(key, value)
        with unit_of_work(self.engine) as s:
            self._model_row(s, name)
            stmt = upsert_insert(s, RegisteredModelTagModel)
            stmt = stmt.on_conflict_do_update(
                index_elements=["name", "key"], set_={"value": stmt.excluded.value}
            )
            s.execute(stmt, [{"name": name, "key": key, "value": value}])
            self._touch(s, name)

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        """Deleting a tag the model does not have is a no-op, as in MLflow's registry."""
        with unit_of_work(self.engine) as s:
            self._model_row(s, name)
            t = RegisteredModelTagModel
            result = s.execute(delete(t).where(t.name == name, t.key == key))
            if result.rowcount:  # type: ignore[attr-defined]
                self._touch(s, name)

    # -- model versions ----------------------------------------------------------------------
    def create_model_version(
        self,
        name: str,
        source: str,
        run_id: str | None = None,
        tags: dict[str, str] | None = None,
        run_link: str | None = None,
        description: str | None = None,
        model_id: str | None = None,
        user_id: str = "",
    ) -> ModelVersion:
        rules.validate_model_name(name)
        for k, v in (tags or {}).items():
            rules.validate_registry_tag(k, v)
            rules.check_tag_key_writable(k)  # trainlab.lineage.*: trainlab records those
        rules.validate_description(description or "")
        run_id = run_id or None
        model_id = model_id or None
        with unit_of_work(self.engine) as s:
            t = self.clock()
            # The row lock taken by this UPDATE serialises concurrent creates (PostgreSQL);
            # SQLite writers hold the database lock (BEGIN IMMEDIATE).
            conn = s.connection()
            number = conn.execute(_NEXT_VERSION, {"model": name, "now": t}).scalar()
            if number is None:
                raise ResourceNotFound(f"Registered Model with name={name} not found")
            storage_location = None
            if is_prompt(tags or {}):  # MLflow's prompt registry: no artifacts, no lineage
                rules.check_prompt_source(source)
                lineage: dict[str, str] = {}
            elif (copied := self._copied_version(s, source, run_id, model_id)) is None:
                owner_run, owner_model = check_source(s, source, run_id, model_id)
                run_id, model_id = infer_lineage(
                    s, source, run_id or owner_run, model_id or owner_model
                )
                lineage = version_lineage(s, run_id, model_id)
            else:
                source, run_id, model_id, lineage, storage_location = copied
            version = ModelVersion(
                name=name,
                version=number,
                creation_timestamp=t,
                last_updated_timestamp=t,
                source=source,
                user_id=user_id or "",
                current_stage="None",
                description=description or "",
                run_id=run_id,
                status=ModelVersionStatus.READY,
                run_link=run_link or None,
                model_id=model_id,
                tags=dict(tags or {}),
                storage_location=storage_location,
                lineage=lineage,
            )
            conn.execute(_INSERT_VERSION, _version_values(version))
            if model_id is not None and not is_prompt(tags or {}):
                list_version_on_model(s, model_id, name, number)
            stored = {**version.tags, **{LINEAGE_TAG_PREFIX + k: v for k, v in lineage.items()}}
            if stored:
                conn.execute(
                    _INSERT_VERSION_TAG,
                    [
                        {"name": name, "version": number, "key": k, "value": v}
                        for k, v in stored.items()
                    ],
                )
            return version

    def _copied_version(
        self, s: Session, source: str, run_id: str | None, model_id: str | None
    ) -> tuple[str, str | None, str | None, dict[str, str], str] | None:
        """For a ``models:/<name>/<version>`` (or ``@alias``, stage, ``latest``) source, as
        MLflow's ``copy_model_version`` sends: the fixed source, and the run, logged model,
        lineage and artifact location of the version it names. None for other sources."""
        named = rules.registered_version_source(source)
        if named is None:
            return None
        rules.check_source_safe(source)
        name, version = named
        if version.startswith("@"):
            version = str(self._alias_version(s, name, version[1:]))
        elif not (version.isascii() and version.isdigit()):  # the newest, or newest in a stage
            stages = [] if version.lower() == "latest" else [_source_stage(source, version)]
            version = str(self._newest_version(s, name, stages))
        original = load_versions(s, [self._version_record(s, name, version)])[0]
        if (run_id and run_id != original.run_id) or (model_id and model_id != original.model_id):
            raise InvalidParameterValue(
                f"Invalid model version source {source!r}: run_id and model_id must match the "
                f"version it names (run {original.run_id!r}, logged model {original.model_id!r})."
            )
        storage = original.storage_location or download_uri(s, original.source)
        fixed = f"models:/{name}/{original.version}"
        return fixed, original.run_id, original.model_id, original.lineage, storage

    def get_model_version(self, name: str, version: int) -> ModelVersion:
        with unit_of_work(self.engine, write=False) as s:
            return load_versions(s, [self._version_record(s, name, version)])[0]

    def update_model_version(self, name: str, version: int, description: str) -> ModelVersion:
        rules.validate_description(description)
        with unit_of_work(self.engine) as s:
            row = self._version_row(s, name, version)
            row.description = description
            row.last_updated_timestamp = self._touch(s, name)
            return self._version(s, row)

    def delete_model_version(self, name: str, version: int, user: str = "") -> None:
        with unit_of_work(self.engine) as s:
            row = self._version_row(s, name, version)
            t = self._touch(s, name)
            aliases.remove_for_version(
                s,
                name,
                row.version,
                user=user,
                reason=f"version {row.version} deleted",
                timestamp=t,
            )
            s.flush()
            s.execute(delete(_MV).where(_MV.name == name, _MV.version == row.version))

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = VERSIONS_SEARCH_MAX_RESULTS,
        order_by: Sequence[str] = (),
        page_token: str | None = None,
    ) -> PagedList[ModelVersion]:
        rules.check_max_results(max_results, VERSIONS_SEARCH_LIMIT)
        clause = search.model_versions_filter(filter_string)
        order = search.model_versions_order_by(order_by)
        return self._page(select(_MV), clause, order, max_results, page_token, load_versions)

    def set_model_version_tag(self, name: str, version: int, key: str, value: str) -> None:
        rules.validate_registry_tag(key, value)
        rules.check_tag_key_writable(key)
        with unit_of_work(self.engine) as s:
            row = self._version_row(s, name, version)
            stmt = upsert_insert(s, ModelVersionTagModel)
            stmt = stmt.on_conflict_do_update(
                index_elements=["name", "version", "key"], set_={"value": stmt.excluded.value}
            )
            s.execute(stmt, [{"name": name, "version": row.version, "key": key, "value": value}])
            row.last_updated_timestamp = self._touch(s, name)

    def delete_model_version_tag(self, name: str, version: int, key: str) -> None:
        """Deleting a tag the version does not have is a no-op, as in MLflow's registry."""
        rules.check_tag_key_writable(key)
        with unit_of_work(self.engine) as s:
            row = self._version_row(s, name, version)
            t = ModelVersionTagModel
            result = s.execute(
                delete(t).where(t.name == name, t.version == row.version, t.key == key)
            )
            if result.rowcount:  # type: ignore[attr-defined]
                row.last_updated_timestamp = self._touch(s, name)

    def get_model_version_download_uri(self, name: str, version: int) -> str:
        with unit_of_work(self.engine, write=False) as s:
            row = self._version_record(s, name, version)
            return str(row.storage_location or download_uri(s, row.source))

    # -- stages ------------------------------------------------------------------------------
    def get_latest_versions(self, name: str, stages: Sequence[str] = ()) -> list[ModelVersion]:
        with unit_of_work(self.engine, write=False) as s:
            self._model_row(s, name)  # a missing model first: its 404 explains a bad stage
            wanted = list(dict.fromkeys(rules.canonical_stage(st) for st in stages))
            return latest_per_stage(s, [name], wanted)[name]

    def transition_model_version_stage(
        self, name: str, version: int, stage: str, archive_existing_versions: bool = False
    ) -> ModelVersion:
        target = rules.canonical_stage(stage)
        if archive_existing_versions and target not in ("Staging", "Production"):
            raise InvalidParameterValue(
                f"archive_existing_versions can only be used with the Staging or Production "
                f"stage, not {target!r}."
            )
        with unit_of_work(self.engine) as s:
            row = self._version_row(s, name, version)
            t = self._touch(s, name)
            if archive_existing_versions:
                s.execute(
                    update(_MV)
                    .where(
                        _MV.name == name, _MV.current_stage == target, _MV.version != row.version
                    )
                    .values(current_stage="Archived", last_updated_timestamp=t)
                )
            row.current_stage = target
            row.last_updated_timestamp = t
            return self._version(s, row)

    # -- aliases -----------------------------------------------------------------------------
    def set_registered_model_alias(
        self,
        name: str,
        alias: str,
        version: int,
        user: str = "",
        reason: str = "",
        expected: int | None | Literal["any"] = "any",
    ) -> None:
        rules.validate_alias(alias)
        with unit_of_work(self.engine) as s:
            self._model_row(s, name, lock=True)  # "no such model" before "no such version"
            row = self._version_record(s, name, version)
            if expected != "any" and (held := aliases.current_version(s, name, alias)) != expected:
                raise InvalidState(
                    f"Alias '{alias}' of registered model '{name}' is held by "
                    f"{_holding(held)}, not {_holding(expected)}: it moved meanwhile, so it "
                    "was left there."
                )
            t = self.clock()
            if aliases.move(s, name, alias, row.version, user=user, reason=reason, timestamp=t):
                self._touch(s, name)

    def delete_registered_model_alias(
        self, name: str, alias: str, user: str = "", reason: str = ""
    ) -> None:
        rules.validate_alias(alias)
        with unit_of_work(self.engine) as s:
            self._model_row(s, name, lock=True)
            t = self.clock()
            if aliases.move(s, name, alias, None, user=user, reason=reason, timestamp=t):
                self._touch(s, name)

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        with unit_of_work(self.engine, write=False) as s:
            number = self._alias_version(s, name, alias)
            return load_versions(s, [self._version_record(s, name, number)])[0]

    def _alias_version(self, s: Session, name: str, alias: str) -> int:
        """The version ``alias`` names; the reserved alias 'latest' (any case, as in MLflow)
        names the newest version."""
        if alias.lower() == "latest":
            return self._newest_version(s, name, [])
        self._model_row(s, name)
        number = aliases.current_version(s, name, alias)
        if number is None:
            # MLflow's code and message (clients that check them see the same), then which are
            held = aliases.names(s, name)
            which = f"its aliases: {', '.join(held[:20])}" if held else "it has no aliases"
            if len(held) > 20:
                which += f" and {len(held) - 20} more"
            raise InvalidParameterValue(
                f"Registered model alias {alias} not found ({name!r}: {which})."
            )
        return number

    def _newest_version(self, s: Session, name: str, stages: Sequence[str]) -> int:
        """The model's newest version, or newest in one of ``stages`` (any stage if empty)."""
        self._model_row(s, name)
        newest = latest_per_stage(s, [name], stages)[name]
        if not newest:
            where = f" in stage {stages[0]!r}" if stages else ""
            raise ResourceNotFound(f"Model {name!r} has no version{where}.")
        return max(v.version for v in newest)

    def get_alias_history(self, name: str, alias: str | None = None) -> list[AliasEvent]:
        rules.validate_model_name(name)
        with unit_of_work(self.engine, write=False) as s:
            events = aliases.history(s, name, alias)
            if not events:  # a deleted model's history stays readable; a model never made not
                self._model_row(s, name)
            return events

    def rollback_registered_model_alias(
        self, name: str, alias: str, user: str = "", reason: str = "", *, dry_run: bool = False
    ) -> ModelVersion:
        rules.validate_alias(alias)
        with unit_of_work(self.engine, write=not dry_run) as s:
            self._model_row(s, name, lock=not dry_run)
            target = aliases.rollback_target(s, name, alias)
            row = s.get(_MV, (name, target))
            if row is None:
                raise ResourceNotFound(
                    f"Cannot roll alias '{alias}' back to version {target} of model '{name}': "
                    "that version was deleted."
                )
            if dry_run:
                return self._version(s, row)
            why = f"rollback: {reason}" if reason else "rollback"
            aliases.move(s, name, alias, target, user=user, reason=why, timestamp=self.clock())
            self._touch(s, name)
            return self._version(s, row)


def _source_stage(source: str, stage: str) -> str:
    try:
        return rules.canonical_stage(stage)
    except InvalidParameterValue:
        raise rules.invalid_source(
            source,
            f"{stage!r} is not a version number, a stage ({', '.join(STAGES)}) or 'latest'",
        ) from None


def _holding(version: int | None) -> str:
    return "no version" if version is None else f"version {version}"
