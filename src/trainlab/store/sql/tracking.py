"""SQL implementation of the tracking store (experiments, runs, params, tags, metrics)."""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager

from sqlalchemy import Engine, and_, bindparam, delete, or_, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from trainlab.artifacts.paths import join_location, validate_artifact_location
from trainlab.entities import (
    DatasetInput,
    DatasetSummary,
    Experiment,
    LifecycleStage,
    Metric,
    PagedList,
    Param,
    Run,
    RunData,
    RunInfo,
    RunStatus,
    RunTag,
    ViewType,
)
from trainlab.entities.paging import decode_page_token, encode_page_token
from trainlab.entities.tags import DATASET_CONTEXT_TAG, PARENT_RUN_TAG, RUN_NAME_TAG, USER_TAG
from trainlab.exceptions import (
    InvalidParameterValue,
    InvalidState,
    ResourceAlreadyExists,
    ResourceNotFound,
    TrainlabError,
)
from trainlab.store import search
from trainlab.store._base import (
    DATASET_SUMMARIES_MAX,
    SEARCH_MAX_RESULTS_DEFAULT,
    BaseTrackingStore,
)
from trainlab.store.sql import convert
from trainlab.store.sql.engine import make_engine, unopenable, upgrade
from trainlab.store.sql.fastpath import (
    RunRow,
    experiment_for_run,
    insert_metrics,
    insert_run_row,
    metric_history,
    run_state,
    update_run_row,
    upsert_tag_rows,
)
from trainlab.store.sql.models import (
    DatasetModel,
    ExperimentModel,
    ExperimentTagModel,
    RunInputModel,
    RunInputTagModel,
    RunModel,
    TagModel,
)
from trainlab.store.sql.names import random_run_name
from trainlab.store.sql.run_search import runs_query
from trainlab.store.sql.uow import unit_of_work, upsert_insert
from trainlab.store.sql.writes import (
    check_metric_models,
    insert_model_io,
    insert_params,
    metric_rows,
    upsert_tags,
)
from trainlab.validation import (
    BULK_METRICS_PER_BATCH,
    INT32_MAX,
    INT64_MAX,
    MAX_EXPERIMENT_TAG_VALUE_LENGTH,
    MAX_RUN_NAME_LENGTH,
    MAX_USER_ID_LENGTH,
    param_dict,
    validate_batch_sizes,
    validate_experiment_name,
    validate_key,
    validate_tag_value,
    validate_timestamp,
    validate_value,
)

DEFAULT_EXPERIMENT_ID = 0
DEFAULT_EXPERIMENT_NAME = "Default"
SEARCH_LIMIT = 50000
# Runs are read as plain rows of these columns, not as ORM objects (get_run: 351 -> 200 us).
RUN_ROW_COLUMNS = tuple(getattr(RunModel, name) for name in RunRow._fields)
_RUN_BY_ID = select(*RUN_ROW_COLUMNS).where(RunModel.run_id == bindparam("run_id"))


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def _experiment_pk(experiment_id: str | int) -> int:
    try:
        pk = int(experiment_id)
    except (TypeError, ValueError):
        pk = -1
    if not 0 <= pk <= INT32_MAX or isinstance(experiment_id, bool):
        raise InvalidParameterValue(
            f"Invalid experiment ID {str(experiment_id)[:40]!r}: experiment IDs are integers "
            f"from 0 to {INT32_MAX}."
        )
    return pk


# Tags that set a column of the run: their values are held to its size.
_ATTRIBUTE_TAGS = {RUN_NAME_TAG: (MAX_RUN_NAME_LENGTH, ""), PARENT_RUN_TAG: (32, " (a run ID)")}


def _validated_tags(tags: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The tags as a dict (a repeated key: its last value), each checked."""
    checked = {}
    for key, value in tags:
        validate_key(key, "tag key")
        checked[key] = validate_tag_value(value, key)
        if key in _ATTRIBUTE_TAGS:
            limit, what = _ATTRIBUTE_TAGS[key]
            validate_value(value, limit, f"tag '{key}'{what}")
    return checked


# MLflow's limits on a logged dataset's fields (the digest: trainlab's column, wider).
_DATASET_LIMITS = {
    "name": 500,
    "digest": 64,
    "source_type": 36,
    "source": 65_535,
    "schema": 1_048_575,
    "profile": 16_384,
}


def _check_dataset_input(di: DatasetInput) -> None:
    for field_name, limit in _DATASET_LIMITS.items():
        value = getattr(di.dataset, field_name)
        if value is not None:
            validate_value(value, limit, f"dataset {field_name}")
    for key, value in di.tags.items():
        validate_value(key, 255, "dataset input tag key")
        validate_value(value, 500, f"value of dataset input tag '{key[:40]}'")


def _check_max_results(max_results: int, limit: int = SEARCH_LIMIT) -> None:
    if isinstance(max_results, bool) or not isinstance(max_results, int) or max_results < 1:
        raise InvalidParameterValue(
            f"Invalid value {max_results!r} for parameter 'max_results': it must be a positive "
            "integer."
        )
    if max_results > limit:
        raise InvalidParameterValue(
            f"Invalid value {max_results} for parameter 'max_results': the limit is {limit}."
        )


def _run_not_found(run_id: str) -> ResourceNotFound:
    return ResourceNotFound(f"Run with id={run_id} not found.")


def _run_deleted(run_id: str) -> InvalidParameterValue:
    # MLflow's code for it: clients that check error codes see the same one
    return InvalidParameterValue(
        f"Run {run_id} is deleted; restore it before logging to it "
        f"(`trainlab runs restore {run_id}`, or MLflow's runs/restore)."
    )


def _check_run_id(run_id: object) -> None:
    if not isinstance(run_id, str) or not run_id:
        raise InvalidParameterValue(f"Invalid run ID {run_id!r}: expected a non-empty string.")


class SqlTrackingStore(BaseTrackingStore):
    """Tracking store on SQLite or PostgreSQL. Migrates a new database on construction."""

    @property
    def max_batch_metrics(self) -> int:
        return BULK_METRICS_PER_BATCH

    def __init__(
        self,
        uri: str,
        default_artifact_root: str,
        *,
        engine: Engine | None = None,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self.uri = uri
        self.engine = engine or make_engine(uri)
        self.default_artifact_root = default_artifact_root
        self.clock = clock
        try:
            upgrade(self.engine)
        except (DBAPIError, OSError) as exc:  # unreachable, not a database, no permission
            if engine is None:
                self.engine.dispose()
            raise unopenable(uri, exc) from None
        except TrainlabError:  # another tool's database
            if engine is None:
                self.engine.dispose()
            raise
        self._ensure_default_experiment()

    def close(self) -> None:
        self.engine.dispose()

    # -- helpers ----
    def _session(self, write: bool = True) -> AbstractContextManager[Session]:
        return unit_of_work(self.engine, write=write)

    def _ensure_default_experiment(self) -> None:
        # Looked for without the write lock first: opening a store to read it must not wait
        # for another process's long write.
        with self._session(write=False) as s:
            if s.get(ExperimentModel, DEFAULT_EXPERIMENT_ID) is not None:
                return
        with self._session() as s:
            t = self.clock()
            stmt = upsert_insert(s, ExperimentModel).values(
                experiment_id=DEFAULT_EXPERIMENT_ID,
                name=DEFAULT_EXPERIMENT_NAME,
                artifact_location=join_location(
                    self.default_artifact_root, str(DEFAULT_EXPERIMENT_ID)
                ),
                lifecycle_stage=LifecycleStage.ACTIVE,
                creation_time=t,
                last_update_time=t,
            )
            s.execute(stmt.on_conflict_do_nothing())

    def _experiment_row(self, s: Session, experiment_id: str | int) -> ExperimentModel:
        row = s.get(ExperimentModel, _experiment_pk(experiment_id))
        if row is None:
            raise ResourceNotFound(f"No experiment with ID {experiment_id}.")
        return row

    def _check_writable(self, s: Session, run_id: str) -> int:
        """The run exists and is not deleted (one indexed lookup, no ORM load); its experiment."""
        _check_run_id(run_id)
        state = run_state(s, run_id)
        if state is None:
            raise _run_not_found(run_id)
        stage, experiment_id = state
        if stage != LifecycleStage.ACTIVE:
            raise _run_deleted(run_id)
        return experiment_id

    def _run_row(self, s: Session, run_id: str, *, for_write: bool = False) -> RunModel:
        _check_run_id(run_id)
        row = s.get(RunModel, run_id)
        if row is None:
            raise _run_not_found(run_id)
        if for_write and row.lifecycle_stage != LifecycleStage.ACTIVE:
            raise _run_deleted(run_id)
        return row

    @staticmethod
    def _experiment_tags(s: Session, ids: Sequence[int]) -> dict[int, dict[str, str]]:
        tags: dict[int, dict[str, str]] = {i: {} for i in ids}
        rows = select(ExperimentTagModel).where(ExperimentTagModel.experiment_id.in_(ids))
        for t in s.execute(rows).scalars():
            tags[t.experiment_id][t.key] = t.value
        return tags

    # -- experiments ----
    def create_experiment(
        self, name: str, artifact_location: str | None = None, tags: dict[str, str] | None = None
    ) -> str:
        validate_experiment_name(name)
        if artifact_location:
            validate_artifact_location(artifact_location)
        tags = dict(tags or {})
        for k, v in tags.items():
            validate_key(k, "experiment tag key")
            validate_value(v, MAX_EXPERIMENT_TAG_VALUE_LENGTH, f"value for experiment tag '{k}'")
        with self._session() as s:
            t = self.clock()
            insert = (
                upsert_insert(s, ExperimentModel)
                .values(
                    name=name,
                    artifact_location=artifact_location or "",
                    lifecycle_stage=LifecycleStage.ACTIVE,
                    creation_time=t,
                    last_update_time=t,
                )
                .on_conflict_do_nothing(index_elements=["name"])
                .returning(ExperimentModel.experiment_id)
            )
            exp_id = s.execute(insert).scalar()
            if exp_id is None:  # the name is taken, possibly by a concurrent request
                raise ResourceAlreadyExists(f"Experiment '{name}' already exists.")
            if not artifact_location:
                s.execute(
                    update(ExperimentModel)
                    .where(ExperimentModel.experiment_id == exp_id)
                    .values(
                        artifact_location=join_location(self.default_artifact_root, str(exp_id))
                    )
                )
            s.add_all(
                ExperimentTagModel(experiment_id=exp_id, key=k, value=v) for k, v in tags.items()
            )
            return str(exp_id)

    def get_experiment(self, experiment_id: str) -> Experiment:
        with self._session(write=False) as s:
            row = self._experiment_row(s, experiment_id)
            return convert.experiment(
                row, self._experiment_tags(s, [row.experiment_id])[row.experiment_id]
            )

    def find_experiment_by_name(self, name: str) -> Experiment | None:
        with self._session(write=False) as s:
            row = s.scalar(select(ExperimentModel).where(ExperimentModel.name == name))
            if row is None:
                return None
            return convert.experiment(
                row, self._experiment_tags(s, [row.experiment_id])[row.experiment_id]
            )

    def search_experiments(
        self,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        filter_string: str | None = None,
        order_by: Sequence[str] = (),
        page_token: str | None = None,
    ) -> PagedList[Experiment]:
        _check_max_results(max_results)
        offset = decode_page_token(page_token)
        query = select(ExperimentModel).where(
            ExperimentModel.lifecycle_stage.in_(ViewType(view_type).stages())
        )
        clause = search.experiments_filter(filter_string)
        if clause is not None:
            query = query.where(clause)
        query = query.order_by(*search.experiments_order_by(order_by))
        with self._session(write=False) as s:
            rows = list(s.execute(query.offset(offset).limit(max_results + 1)).scalars())
            more = len(rows) > max_results
            rows = rows[:max_results]
            tags = self._experiment_tags(s, [r.experiment_id for r in rows])
            items = [convert.experiment(r, tags[r.experiment_id]) for r in rows]
        token = encode_page_token(offset + max_results) if more else None
        return PagedList(items, token)

    def _set_experiment_stage(self, experiment_id: str, stage: LifecycleStage) -> None:
        with self._session() as s:
            row = self._experiment_row(s, experiment_id)
            if stage == LifecycleStage.DELETED and row.experiment_id == DEFAULT_EXPERIMENT_ID:
                raise InvalidParameterValue("The default experiment (ID 0) cannot be deleted.")
            other = (
                LifecycleStage.ACTIVE if stage == LifecycleStage.DELETED else LifecycleStage.DELETED
            )
            if row.lifecycle_stage != other:  # MLflow's code: no such experiment in that stage
                raise ResourceNotFound(
                    f"No {other} experiment with ID {experiment_id}: it is already "
                    f"{row.lifecycle_stage}."
                )
            t = self.clock()
            deleted_at = row.last_update_time  # a deleted experiment's: when it was deleted
            row.lifecycle_stage = stage
            row.last_update_time = t
            runs = (
                update(RunModel)
                .where(RunModel.experiment_id == row.experiment_id)
                .where(RunModel.lifecycle_stage == other)
            )
            if stage == LifecycleStage.ACTIVE:  # only the runs deleted with the experiment
                runs = runs.where(
                    or_(RunModel.deleted_time.is_(None), RunModel.deleted_time >= deleted_at)
                )
            s.execute(
                runs.values(
                    lifecycle_stage=stage,
                    deleted_time=t if stage == LifecycleStage.DELETED else None,
                )
            )

    def delete_experiment(self, experiment_id: str) -> None:
        self._set_experiment_stage(experiment_id, LifecycleStage.DELETED)

    def restore_experiment(self, experiment_id: str) -> None:
        self._set_experiment_stage(experiment_id, LifecycleStage.ACTIVE)

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        validate_experiment_name(new_name)
        with self._session() as s:
            row = self._experiment_row(s, experiment_id)
            if row.lifecycle_stage != LifecycleStage.ACTIVE:
                raise InvalidState(
                    f"Experiment {experiment_id} is deleted; restore it before renaming it."
                )
            clash = select(ExperimentModel.experiment_id).where(
                ExperimentModel.name == new_name, ExperimentModel.experiment_id != row.experiment_id
            )
            if s.scalar(clash) is not None:
                raise ResourceAlreadyExists(f"Experiment '{new_name}' already exists.")
            row.name = new_name
            row.last_update_time = self.clock()

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        validate_key(key, "experiment tag key")
        validate_value(value, MAX_EXPERIMENT_TAG_VALUE_LENGTH, f"value for experiment tag '{key}'")
        with self._session() as s:
            row = self._experiment_row(s, experiment_id)
            if row.lifecycle_stage != LifecycleStage.ACTIVE:
                raise InvalidParameterValue(
                    f"Experiment {experiment_id} is deleted; restore it before tagging it."
                )
            stmt = upsert_insert(s, ExperimentTagModel).values(
                experiment_id=row.experiment_id, key=key, value=value
            )
            s.execute(
                stmt.on_conflict_do_update(
                    index_elements=["experiment_id", "key"], set_={"value": value}
                )
            )

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        with self._session() as s:
            row = self._experiment_row(s, experiment_id)
            result = s.execute(
                delete(ExperimentTagModel).where(
                    ExperimentTagModel.experiment_id == row.experiment_id,
                    ExperimentTagModel.key == key,
                )
            )
            if result.rowcount == 0:  # type: ignore[attr-defined]
                raise ResourceNotFound(f"No tag with key '{key}' on experiment {experiment_id}.")

    # -- runs ----
    def create_run(
        self,
        experiment_id: str,
        user_id: str = "",
        start_time: int | None = None,
        tags: dict[str, str] | None = None,
        run_name: str | None = None,
    ) -> Run:
        tags = _validated_tags((tags or {}).items())
        user_id = user_id or tags.get(USER_TAG, "")
        validate_value(user_id, MAX_USER_ID_LENGTH, "user_id")
        run_name = run_name or tags.get(RUN_NAME_TAG) or random_run_name()
        validate_value(run_name, MAX_RUN_NAME_LENGTH, "run_name")
        if tags.get(RUN_NAME_TAG, run_name) != run_name:
            raise InvalidParameterValue(
                f"run_name {run_name!r} and tag '{RUN_NAME_TAG}' "
                f"{tags[RUN_NAME_TAG]!r} disagree; pass one of them."
            )
        tags[RUN_NAME_TAG] = run_name
        if start_time is not None:
            validate_timestamp(start_time, "start_time")
        with self._session() as s:
            exp = experiment_for_run(s, _experiment_pk(experiment_id))
            if exp is None:
                raise ResourceNotFound(f"No experiment with ID {experiment_id}.")
            stage, artifact_location = exp
            if stage != LifecycleStage.ACTIVE:
                raise InvalidParameterValue(
                    f"Experiment {experiment_id} is deleted; runs can only be created in active "
                    "experiments."
                )
            run_id = uuid.uuid4().hex
            info = RunInfo(
                run_id=run_id,
                experiment_id=str(_experiment_pk(experiment_id)),
                run_name=run_name,
                user_id=user_id,
                status=RunStatus.RUNNING,
                start_time=start_time if start_time is not None else self.clock(),
                end_time=None,
                artifact_uri=join_location(artifact_location, run_id, "artifacts"),
                lifecycle_stage=LifecycleStage.ACTIVE,
            )
            insert_run_row(
                s,
                {
                    "run_id": run_id,
                    "experiment_id": int(info.experiment_id),
                    "name": run_name,
                    "user_id": user_id,
                    "status": str(info.status),
                    "start_time": info.start_time,
                    "end_time": None,
                    "artifact_uri": info.artifact_uri,
                    "lifecycle_stage": str(info.lifecycle_stage),
                    "parent_run_id": tags.get(PARENT_RUN_TAG),
                },
            )
            upsert_tag_rows(s, run_id, int(info.experiment_id), tags)
            return Run(info=info, data=RunData(tags=tags))

    def get_run(self, run_id: str) -> Run:
        _check_run_id(run_id)
        with self._session(write=False) as s:
            row = s.connection().execute(_RUN_BY_ID, {"run_id": run_id}).first()
            if row is None:
                raise _run_not_found(run_id)
            return convert.load_runs(s, [RunRow._make(row)])[0]

    def update_run_info(
        self,
        run_id: str,
        status: RunStatus | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
    ) -> RunInfo:
        if end_time is not None:
            validate_timestamp(end_time, "end_time")
        if run_name:
            validate_value(run_name, MAX_RUN_NAME_LENGTH, "run_name")
        status = RunStatus(status) if status is not None else None
        _check_run_id(run_id)
        with self._session() as s:
            row = update_run_row(s, run_id, status and str(status), end_time, run_name or None)
            if row is None:
                self._check_writable(s, run_id)  # no such run, or a deleted one: it says which
                raise _run_not_found(run_id)
            if run_name:  # the row has the name already: only its tag
                upsert_tag_rows(s, run_id, row.experiment_id, {RUN_NAME_TAG: run_name})
            return convert.run_info(row)

    def _set_run_stage(self, run_id: str, stage: LifecycleStage) -> None:
        with self._session() as s:
            row = self._run_row(s, run_id)
            row.lifecycle_stage = stage
            row.deleted_time = self.clock() if stage == LifecycleStage.DELETED else None

    def delete_run(self, run_id: str) -> None:
        self._set_run_stage(run_id, LifecycleStage.DELETED)

    def restore_run(self, run_id: str) -> None:
        self._set_run_stage(run_id, LifecycleStage.ACTIVE)

    # -- logging ----
    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        validate_batch_sizes(len(metrics), len(params), len(tags), self.max_batch_metrics)
        param_values = param_dict((p.key, p.value) for p in params)
        tag_values = _validated_tags((t.key, t.value) for t in tags)
        rows = metric_rows(run_id, metrics)
        with self._session() as s:
            experiment_id = self._check_writable(s, run_id)
            if param_values:
                insert_params(s, run_id, experiment_id, param_values)
            if tag_values:
                upsert_tags(s, run_id, experiment_id, tag_values)
            if rows:
                check_metric_models(s, rows)
                insert_metrics(s, experiment_id, rows)

    def delete_tag(self, run_id: str, key: str) -> None:
        with self._session() as s:
            self._run_row(s, run_id, for_write=True)
            result = s.execute(
                delete(TagModel).where(TagModel.run_id == run_id, TagModel.key == key)
            )
            if result.rowcount == 0:  # type: ignore[attr-defined]
                raise ResourceNotFound(f"No tag with key '{key}' on run {run_id}.")
            if key == PARENT_RUN_TAG:
                s.execute(
                    update(RunModel).where(RunModel.run_id == run_id).values(parent_run_id=None)
                )

    # -- metric history ----
    def get_metric_history(
        self,
        run_id: str,
        metric_key: str,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> PagedList[Metric]:
        if max_results is not None:
            _check_max_results(max_results, limit=2**31)
        offset = decode_page_token(page_token)
        if max_results is not None:
            limit: int | None = max_results + 1
        else:  # all of it, or all after the token's offset
            limit = INT64_MAX if offset else None
        _check_run_id(run_id)
        with self._session(write=False) as s:
            if run_state(s, run_id) is None:
                raise _run_not_found(run_id)
            rows = metric_history(s, run_id, metric_key, limit, offset)
        more = max_results is not None and len(rows) > max_results
        if more:
            rows = rows[:max_results]
        items = [
            Metric(metric_key, math.nan if nan else v, ts, step, run_id, dn, dd)
            for step, ts, v, nan, dn, dd in rows
        ]
        token = encode_page_token(offset + len(items)) if more else None
        return PagedList(items, token)

    def get_metric_history_bulk_interval(
        self,
        run_ids: Sequence[str],
        metric_key: str,
        max_results: int,
        start_step: int | None = None,
        end_step: int | None = None,
    ) -> list[Metric]:
        from trainlab.store.sql.downsample import downsampled_history

        with self._session(write=False) as s:
            found = set(s.scalars(select(RunModel.run_id).where(RunModel.run_id.in_(run_ids))))
            missing = [r for r in run_ids if r not in found]
            if missing:
                raise _run_not_found(missing[0])
            out: list[Metric] = []
            for run_id in run_ids:
                out.extend(
                    downsampled_history(s, run_id, metric_key, max_results, start_step, end_step)
                )
            return out

    # -- search ----
    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        run_view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] = (),
        page_token: str | None = None,
    ) -> PagedList[Run]:
        _check_max_results(max_results)
        offset = decode_page_token(page_token)
        ids = [_experiment_pk(e) for e in experiment_ids]
        dialect = self.engine.dialect.name
        query, binds = runs_query(ids, filter_string, run_view_type, order_by, dialect)
        if not ids:  # nothing to search; the filter and order were still checked
            return PagedList([], None)
        page = query.with_only_columns(*RUN_ROW_COLUMNS).offset(offset).limit(max_results + 1)
        with self._session(write=False) as s:
            rows = list(map(RunRow._make, s.connection().execute(page, binds)))
            more = len(rows) > max_results
            runs = convert.load_runs(s, rows[:max_results])
        return PagedList(runs, encode_page_token(offset + max_results) if more else None)

    # -- inputs / outputs ----
    def log_inputs(
        self,
        run_id: str,
        datasets: Sequence[DatasetInput] = (),
        model_ids: Sequence[str] = (),
    ) -> None:
        for di in datasets:
            _check_dataset_input(di)
        with self._session() as s:
            run = self._run_row(s, run_id, for_write=True)
            for di in datasets:
                ds = di.dataset
                key = and_(
                    DatasetModel.experiment_id == run.experiment_id,
                    DatasetModel.name == ds.name,
                    DatasetModel.digest == ds.digest,
                )
                s.execute(
                    upsert_insert(s, DatasetModel)
                    .values(
                        experiment_id=run.experiment_id,
                        name=ds.name,
                        digest=ds.digest,
                        source_type=ds.source_type,
                        source=ds.source,
                        schema=ds.schema,
                        profile=ds.profile,
                    )
                    .on_conflict_do_nothing()
                )
                dataset_id = s.scalar(select(DatasetModel.dataset_id).where(key))
                logged = select(RunInputModel.run_id).where(
                    RunInputModel.run_id == run_id, RunInputModel.dataset_id == dataset_id
                )
                if s.execute(logged).first() is not None:
                    continue  # as in MLflow: the first logging of a dataset keeps its context
                s.execute(
                    upsert_insert(s, RunInputModel)
                    .values(run_id=run_id, dataset_id=dataset_id)
                    .on_conflict_do_nothing()
                )
                if di.tags:
                    stmt = upsert_insert(s, RunInputTagModel).on_conflict_do_nothing()
                    s.execute(
                        stmt,
                        [
                            {"run_id": run_id, "dataset_id": dataset_id, "key": k, "value": v}
                            for k, v in di.tags.items()
                        ],
                    )
            insert_model_io(s, run_id, [(m, 0) for m in model_ids], "input")

    def log_outputs(self, run_id: str, models: Sequence[tuple[str, int]]) -> None:
        with self._session() as s:
            self._run_row(s, run_id, for_write=True)
            insert_model_io(s, run_id, models, "output")

    def search_dataset_summaries(self, experiment_ids: Sequence[str]) -> list[DatasetSummary]:
        ids = [_experiment_pk(e) for e in experiment_ids]
        context = and_(
            RunInputTagModel.run_id == RunInputModel.run_id,
            RunInputTagModel.dataset_id == RunInputModel.dataset_id,
            RunInputTagModel.key == DATASET_CONTEXT_TAG,
        )
        columns = (
            DatasetModel.experiment_id,
            DatasetModel.name,
            DatasetModel.digest,
            RunInputTagModel.value,
        )
        query = (
            select(*columns)
            .distinct()
            .join(RunInputModel, RunInputModel.dataset_id == DatasetModel.dataset_id)
            .outerjoin(RunInputTagModel, context)
            .where(DatasetModel.experiment_id.in_(ids))
            .order_by(*columns)
            .limit(DATASET_SUMMARIES_MAX)
        )
        with self._session(write=False) as s:
            rows = s.execute(query).all()
        return [DatasetSummary(str(e), name, digest, ctx) for e, name, digest, ctx in rows]
