"""Search schema of logged models: attributes, metrics, params and tags.

As in MLflow, ``metrics.acc > 0.9`` matches a model when any point of its ``acc`` (any step, any
run, logged with the model's id) does; ``datasets`` restricts those points to the named datasets.
``order_by`` takes an attribute or ``metrics.<key>``, the model's latest point of that metric
(newest timestamp, then highest step), optionally on one dataset.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select

from trainlab.entities.logged_model import LoggedModelStatus
from trainlab.exceptions import InvalidFilter, InvalidParameterValue
from trainlab.store.search._ast import quote
from trainlab.store.search._compile import (
    ID_OPS,
    NUMERIC_OPS,
    STRING_OPS,
    ColumnField,
    ExistsField,
    KeyedFields,
    NamedFields,
    SearchSchema,
    check_order_by_count,
    compare_metric,
    compile_filter,
    key_value_fields,
)
from trainlab.store.sql.models import (
    LoggedModelMetricModel,
    LoggedModelModel,
    LoggedModelParamModel,
    LoggedModelTagModel,
)

_M = LoggedModelModel
DatasetFilter = Mapping[str, object]


def _string(name: str, column: object) -> ColumnField:
    return ColumnField(f"attribute '{name}'", column, "string", STRING_OPS)


def _number(name: str, column: object) -> ColumnField:
    return ColumnField(f"attribute '{name}'", column, "number", NUMERIC_OPS)


def _on_datasets(datasets: Sequence[DatasetFilter]) -> ColumnElement[bool] | None:
    """Points logged on any of the datasets (a name, and a digest where given)."""
    if not datasets:
        return None
    clauses = []
    for d in datasets:
        clause = LoggedModelMetricModel.dataset_name == d["dataset_name"]
        if d.get("dataset_digest"):
            clause = and_(clause, LoggedModelMetricModel.dataset_digest == d["dataset_digest"])
        clauses.append(clause)
    return or_(*clauses)


class LoggedModelMetric(ExistsField):
    """The points of one metric logged with a model (``LoggedModelMetricModel.model_id``)."""

    def __init__(self, key: str, on_datasets: ColumnElement[bool] | None = None) -> None:
        scope = and_(
            LoggedModelMetricModel.model_id == _M.model_id, LoggedModelMetricModel.key == key
        )
        if on_datasets is not None:
            scope = and_(scope, on_datasets)
        super().__init__(
            f"metric {quote(key)}",
            scope,
            LoggedModelMetricModel.value,
            "number",
            NUMERIC_OPS,
            allows_nan=True,
        )

    def condition(self, op: str, value: Any) -> ColumnElement[bool]:
        return compare_metric(self.column, LoggedModelMetricModel.is_nan, op, value)

    def order(self, ascending: bool) -> list[ColumnElement[Any]]:
        """The latest point's value: numbers first, then NaN, then models without the metric."""
        # A total order, so that both subqueries pick the same point when points tie.
        newest = (
            LoggedModelMetricModel.timestamp.desc(),
            LoggedModelMetricModel.step.desc(),
            LoggedModelMetricModel.run_id,
            LoggedModelMetricModel.dataset_name,
            LoggedModelMetricModel.dataset_digest,
            LoggedModelMetricModel.is_nan,
            LoggedModelMetricModel.value,
        )

        def latest(column: Any) -> Any:
            return select(column).where(self.scope).order_by(*newest).limit(1).scalar_subquery()

        rank = latest(case((LoggedModelMetricModel.is_nan, 1), else_=0))
        value = latest(LoggedModelMetricModel.value)
        sort = value.asc() if ascending else value.desc()
        return [func.coalesce(rank, 2).asc(), sort]


# A status as filters name it (MLflow's names) -> as stored (the wire's names).
_STATUSES = {
    "PENDING": LoggedModelStatus.PENDING,
    "READY": LoggedModelStatus.READY,
    "FAILED": LoggedModelStatus.UPLOAD_FAILED,
}


class _StatusField(ColumnField):
    """``status = 'READY'``: MLflow's names (PENDING, READY, FAILED) or the wire's
    (LOGGED_MODEL_READY ...), in any case; = != IN and NOT IN."""

    def __init__(self) -> None:
        super().__init__("attribute 'status'", _M.status, "string", ID_OPS)

    def where(self, op: str, value: Any) -> ColumnElement[bool]:
        if isinstance(value, (list, tuple)):
            return super().where(op, [_stored_status(v) for v in value])
        return super().where(op, _stored_status(value))


def _stored_status(name: str) -> str:
    wanted = name.strip().upper()
    for short, status in _STATUSES.items():
        if wanted in (short, status.value):
            return status.value
    raise InvalidFilter(
        f"Unknown logged model status {name!r} in the filter: use {', '.join(_STATUSES)}."
    )


_ATTRIBUTES = NamedFields(
    {
        "name": _string("name", _M.name),
        "model_id": _string("model_id", _M.model_id),
        "model_type": _string("model_type", _M.model_type),
        "status": _StatusField(),
        "source_run_id": _string("source_run_id", _M.source_run_id),
        "creation_timestamp": _number("creation_timestamp", _M.creation_timestamp),
        "creation_time": _number("creation_time", _M.creation_timestamp),
        "last_updated_timestamp": _number("last_updated_timestamp", _M.last_updated_timestamp),
        "last_updated_time": _number("last_updated_time", _M.last_updated_timestamp),
    }
)


def _schema(on_datasets: ColumnElement[bool] | None) -> SearchSchema:
    return SearchSchema(
        entity="logged models",
        kinds={
            "attribute": _ATTRIBUTES,
            "metric": KeyedFields(lambda key: LoggedModelMetric(key, on_datasets)),
            "param": key_value_fields(
                "param",
                owner=LoggedModelParamModel.model_id,
                parent=_M.model_id,
                key=LoggedModelParamModel.key,
                value=LoggedModelParamModel.value,
            ),
            "tag": key_value_fields(
                "tag",
                owner=LoggedModelTagModel.model_id,
                parent=_M.model_id,
                key=LoggedModelTagModel.key,
                value=LoggedModelTagModel.value,
            ),
        },
        default_order=(_M.creation_timestamp.desc(), _M.model_id.asc()),
    )


LOGGED_MODELS = _schema(None)


def check_datasets(datasets: Sequence[DatasetFilter]) -> None:
    for i, d in enumerate(datasets):
        name, digest = d.get("dataset_name"), d.get("dataset_digest")
        if not isinstance(name, str) or not name:
            raise InvalidParameterValue(
                f"Invalid datasets[{i}]: dataset_name is required (a non-empty string)."
            )
        if digest is not None and not isinstance(digest, str):
            raise InvalidParameterValue(f"Invalid datasets[{i}].dataset_digest: expected a string.")


def logged_models_filter(
    filter_string: str | None, datasets: Sequence[DatasetFilter] = ()
) -> ColumnElement[bool] | None:
    """A WHERE clause over ``LoggedModelModel``; None for no filter. With ``datasets``, metric
    comparisons see only points on those datasets, and a model needs a point on one of them."""
    check_datasets(datasets)
    on_datasets = _on_datasets(datasets)
    clause = compile_filter(_schema(on_datasets) if datasets else LOGGED_MODELS, filter_string)
    if on_datasets is None:
        return clause
    on_model = select(LoggedModelMetricModel.model_id).where(
        LoggedModelMetricModel.model_id == _M.model_id, on_datasets
    )
    has_points = on_model.exists()
    return has_points if clause is None else and_(has_points, clause)


def logged_models_order_by(order_by: Sequence[Mapping[str, object]]) -> list[ColumnElement[Any]]:
    """ORDER BY for MLflow's ``order_by`` entries ``{field_name, ascending, dataset_name,
    dataset_digest}``, then newest first and by id."""
    check_order_by_count(len(order_by))
    ordering: list[ColumnElement[Any]] = []
    for i, o in enumerate(order_by):
        name = o.get("field_name")
        ascending = o.get("ascending", True) is not False
        if not isinstance(name, str) or not name:
            raise InvalidParameterValue(f"Invalid order_by[{i}]: field_name is required.")
        if name.startswith("metrics.") and len(name) > len("metrics."):
            on_dataset = None
            if o.get("dataset_name"):
                on_dataset = _on_datasets([o])
            elif o.get("dataset_digest"):
                on_dataset = LoggedModelMetricModel.dataset_digest == o["dataset_digest"]
            field = LoggedModelMetric(name[len("metrics.") :], on_dataset)
            ordering += field.order(ascending)
            continue
        attribute = _ATTRIBUTES.field(name)
        if attribute is None:
            raise InvalidParameterValue(
                f"Invalid order_by field_name {name!r}: use metrics.<key> or one of "
                f"{_ATTRIBUTES.valid_keys()}."
            )
        ordering += attribute.order(ascending)
    return ordering + list(LOGGED_MODELS.default_order)
