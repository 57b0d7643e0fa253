"""SQL store for MLflow 3 logged models."""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping, Sequence

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from trainlab.artifacts.paths import join_location
from trainlab.entities import LifecycleStage, LoggedModel, LoggedModelStatus, Metric, PagedList
from trainlab.entities.paging import decode_page_token, encode_page_token, search_key
from trainlab.entities.tags import MODEL_VERSIONS_TAG
from trainlab.exceptions import InvalidParameterValue, ResourceNotFound
from trainlab.store._base import BaseLoggedModelStore
from trainlab.store.search import logged_models_filter, logged_models_order_by
from trainlab.store.sql.models import (
    ExperimentModel,
    LoggedModelMetricModel,
    LoggedModelModel,
    LoggedModelParamModel,
    LoggedModelTagModel,
)
from trainlab.store.sql.registry_lineage import distinct_model_versions
from trainlab.store.sql.tracking import SqlTrackingStore, _experiment_pk
from trainlab.store.sql.uow import unit_of_work, upsert_insert
from trainlab.validation import (
    param_dict,
    validate_key,
    validate_logged_model_name,
    validate_run_id,
    validate_tag_value,
    validate_value,
)


class SqlLoggedModelStore(BaseLoggedModelStore):
    def __init__(self, tracking: SqlTrackingStore) -> None:
        self.tracking = tracking
        self.engine = tracking.engine
        self.clock = tracking.clock

    def _row(self, s: Session, model_id: str) -> LoggedModelModel:
        row = s.get(LoggedModelModel, model_id)
        if row is None or row.lifecycle_stage != "active":
            raise ResourceNotFound(f"Logged model with ID '{model_id}' not found.")
        return row

    def _load(self, s: Session, rows: Sequence[LoggedModelModel]) -> list[LoggedModel]:
        ids = [r.model_id for r in rows]
        tags: dict[str, dict[str, str]] = {i: {} for i in ids}
        params: dict[str, dict[str, str]] = {i: {} for i in ids}
        metrics: dict[str, list[Metric]] = {i: [] for i in ids}
        q_tags = select(LoggedModelTagModel).where(LoggedModelTagModel.model_id.in_(ids))
        for t in s.execute(q_tags).scalars():
            tags[t.model_id][t.key] = t.value
        q_params = select(LoggedModelParamModel).where(LoggedModelParamModel.model_id.in_(ids))
        for p in s.execute(q_params).scalars():
            params[p.model_id][p.key] = p.value
        q_metrics = select(LoggedModelMetricModel).where(LoggedModelMetricModel.model_id.in_(ids))
        for m in s.execute(q_metrics).scalars():
            value = math.nan if m.is_nan else m.value
            metrics[m.model_id or ""].append(
                Metric(
                    m.key,
                    value,
                    m.timestamp,
                    m.step,
                    m.run_id,
                    m.dataset_name,
                    m.dataset_digest,
                    m.model_id,
                )
            )
        return [
            LoggedModel(
                model_id=r.model_id,
                experiment_id=str(r.experiment_id),
                name=r.name,
                artifact_uri=r.artifact_uri,
                status=LoggedModelStatus(r.status),
                creation_timestamp=r.creation_timestamp,
                last_updated_timestamp=r.last_updated_timestamp,
                model_type=r.model_type,
                source_run_id=r.source_run_id,
                status_message=r.status_message,
                tags=tags[r.model_id],
                params=params[r.model_id],
                metrics=metrics[r.model_id],
            )
            for r in rows
        ]

    def create_logged_model(
        self,
        experiment_id: str,
        name: str | None = None,
        source_run_id: str | None = None,
        tags: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
        model_type: str | None = None,
    ) -> LoggedModel:
        for k, v in (tags or {}).items():
            validate_key(k, "tag key")
            validate_tag_value(v, k)
        params = param_dict((params or {}).items())
        if name is not None:
            validate_logged_model_name(name)
        if model_type is not None:
            validate_value(model_type, 500, "logged model model_type")
        if source_run_id:
            validate_run_id(validate_value(source_run_id, 32, "source_run_id (a run ID)"))
        with unit_of_work(self.engine) as s:
            exp = s.get(ExperimentModel, _experiment_pk(experiment_id))
            if exp is None:
                raise ResourceNotFound(f"No experiment with ID {experiment_id}.")
            if exp.lifecycle_stage != LifecycleStage.ACTIVE:
                raise InvalidParameterValue(
                    f"Experiment {experiment_id} is deleted; logged models can only be created "
                    "in active experiments (restore it first)."
                )
            model_id = f"m-{uuid.uuid4().hex}"
            t = self.clock()
            row = LoggedModelModel(
                model_id=model_id,
                experiment_id=exp.experiment_id,
                name=name or f"model-{model_id[2:10]}",
                artifact_uri=join_location(exp.artifact_location, "models", model_id, "artifacts"),
                status=LoggedModelStatus.PENDING,
                creation_timestamp=t,
                last_updated_timestamp=t,
                model_type=model_type,
                source_run_id=source_run_id,
                lifecycle_stage="active",
            )
            s.add(row)
            s.add_all(
                LoggedModelTagModel(model_id=model_id, key=k, value=v)
                for k, v in (tags or {}).items()
            )
            s.add_all(
                LoggedModelParamModel(model_id=model_id, key=k, value=v)
                for k, v in (params or {}).items()
            )
            s.flush()
            return self._load(s, [row])[0]

    def get_logged_model(self, model_id: str) -> LoggedModel:
        with unit_of_work(self.engine, write=False) as s:
            return self._load(s, [self._row(s, model_id)])[0]

    def finalize_logged_model(self, model_id: str, status: LoggedModelStatus) -> LoggedModel:
        with unit_of_work(self.engine) as s:
            row = self._row(s, model_id)
            row.status = LoggedModelStatus(status)
            row.last_updated_timestamp = self.clock()
            s.flush()
            return self._load(s, [row])[0]

    def delete_logged_model(self, model_id: str) -> None:
        """Mark the model deleted; deleting it again is a no-op, as in MLflow."""
        with unit_of_work(self.engine) as s:
            row = s.get(LoggedModelModel, model_id)
            if row is None:
                raise ResourceNotFound(f"Logged model with ID '{model_id}' not found.")
            if row.lifecycle_stage != "deleted":
                row.lifecycle_stage = "deleted"
                row.last_updated_timestamp = self.clock()

    def set_logged_model_tags(self, model_id: str, tags: dict[str, str]) -> LoggedModel:
        for k, v in tags.items():
            validate_key(k, "tag key")
            validate_tag_value(v, k)
        if MODEL_VERSIONS_TAG in tags:
            tags = {**tags, MODEL_VERSIONS_TAG: distinct_model_versions(tags[MODEL_VERSIONS_TAG])}
        with unit_of_work(self.engine) as s:
            row = self._row(s, model_id)
            if tags:
                stmt = upsert_insert(s, LoggedModelTagModel)
                stmt = stmt.on_conflict_do_update(
                    index_elements=["model_id", "key"], set_={"value": stmt.excluded.value}
                )
                s.execute(
                    stmt, [{"model_id": model_id, "key": k, "value": v} for k, v in tags.items()]
                )
            row.last_updated_timestamp = self.clock()
            s.flush()
            return self._load(s, [row])[0]

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        with unit_of_work(self.engine) as s:
            self._row(s, model_id)
            result = s.execute(
                delete(LoggedModelTagModel).where(
                    LoggedModelTagModel.model_id == model_id, LoggedModelTagModel.key == key
                )
            )
            if result.rowcount == 0:  # type: ignore[attr-defined]
                raise ResourceNotFound(f"No tag with key '{key}' on logged model {model_id}.")

    def log_logged_model_params(self, model_id: str, params: dict[str, str]) -> None:
        param_dict(params.items())
        with unit_of_work(self.engine) as s:
            self._row(s, model_id)
            if not params:
                return
            stmt = upsert_insert(s, LoggedModelParamModel).on_conflict_do_nothing()
            rows = [{"model_id": model_id, "key": k, "value": v} for k, v in params.items()]
            s.execute(stmt, rows)
            p = LoggedModelParamModel
            stored = s.execute(
                select(p.key, p.value).where(p.model_id == model_id, p.key.in_(params))
            )
            for key, value in stored:
                if value != params[key]:  # as for a run's params; the whole call is undone
                    raise InvalidParameterValue(
                        f"Changing param values is not allowed. Param '{key}' of logged model "
                        f"{model_id} was already logged with value {value!r}; attempted "
                        f"{params[key]!r}."
                    )

    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        max_results: int = 50,
        order_by: Sequence[Mapping[str, object]] = (),
        page_token: str | None = None,
        datasets: Sequence[Mapping[str, object]] = (),
    ) -> PagedList[LoggedModel]:
        search = search_key(list(experiment_ids), filter_string, order_by, datasets)
        offset = decode_page_token(page_token, search)
        query = select(LoggedModelModel).where(
            LoggedModelModel.experiment_id.in_([_experiment_pk(e) for e in experiment_ids]),
            LoggedModelModel.lifecycle_stage == "active",
        )
        clause = logged_models_filter(filter_string, datasets)
        if clause is not None:
            query = query.where(clause)
        ordering = logged_models_order_by(order_by)
        query = query.order_by(*ordering).offset(offset).limit(max_results + 1)
        with unit_of_work(self.engine, write=False) as s:
            rows = list(s.execute(query).scalars())
            more = len(rows) > max_results
            items = self._load(s, rows[:max_results])
        token = encode_page_token(offset + max_results, search) if more else None
        return PagedList(items, token)
