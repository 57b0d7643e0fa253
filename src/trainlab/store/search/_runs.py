"""Search schema of runs: attributes, metrics (latest value), params, tags, datasets."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, and_, bindparam, case, func, select

from trainlab.entities.tags import DATASET_CONTEXT_TAG
from trainlab.store.search._ast import quote
from trainlab.store.search._compile import (
    NULL_OPS,
    NUMERIC_OPS,
    STRING_OPS,
    ColumnField,
    ExistsField,
    KeyedFields,
    NamedFields,
    SearchSchema,
    Term,
    compare_metric,
    compile_order_by,
    compile_terms,
    key_value_fields,
)
from trainlab.store.search._parser import parse_order_by
from trainlab.store.sql.models import (
    DatasetModel,
    LatestMetricModel,
    ParamModel,
    RunInputModel,
    RunInputTagModel,
    RunModel,
    TagModel,
)

# The experiments a search covers, bound by the caller (`runs_filter`'s docstring). Metric,
# param and tag rows carry their run's experiment, so a filter reads the values of these
# experiments only, not those of every experiment in the database.
SEARCHED_EXPERIMENTS = "searched_experiment_ids"
_searched: BindParameter[int] = bindparam(SEARCHED_EXPERIMENTS, expanding=True)


def searched_experiments() -> BindParameter[int]:
    """The ids of the experiments searched, as bound at execution (``SEARCHED_EXPERIMENTS``)."""
    return _searched


class MetricField(ExistsField):
    """A run's latest value of one metric. NaN (stored as 0 with ``is_nan``) follows IEEE rules:
    it is ``!=`` every number; ``= NaN`` / ``!= NaN`` test for it. Sorting puts numbers first,
    then NaN, then runs without the metric, in both directions."""

    def __init__(self, key: str) -> None:
        super().__init__(
            f"metric {quote(key)}",
            and_(LatestMetricModel.run_id == RunModel.run_id, LatestMetricModel.key == key),
            LatestMetricModel.value,
            "number",
            NUMERIC_OPS | NULL_OPS,
            allows_nan=True,
            link=(
                LatestMetricModel.run_id,
                RunModel.run_id,
                and_(LatestMetricModel.experiment_id.in_(_searched), LatestMetricModel.key == key),
            ),
        )

    def condition(self, op: str, value: Any) -> ColumnElement[bool]:
        return compare_metric(self.column, LatestMetricModel.is_nan, op, value)

    def order(self, ascending: bool) -> list[ColumnElement[Any]]:
        rank = (
            select(case((LatestMetricModel.is_nan, 1), else_=0)).where(self.scope).scalar_subquery()
        )
        return [func.coalesce(rank, 2).asc(), *super().order(ascending)]


def _string(name: str, column: Any) -> ColumnField:
    return ColumnField(f"attribute {quote(name)}", column, "string", STRING_OPS)


def _number(name: str, column: Any) -> ColumnField:
    return ColumnField(f"attribute {quote(name)}", column, "number", NUMERIC_OPS | NULL_OPS)


_input_of_run = and_(
    RunInputModel.run_id == RunModel.run_id, DatasetModel.dataset_id == RunInputModel.dataset_id
)
_context_of_run = and_(
    RunInputTagModel.run_id == RunModel.run_id, RunInputTagModel.key == DATASET_CONTEXT_TAG
)


def _dataset(name: str, scope: ColumnElement[bool], column: Any) -> ExistsField:
    return ExistsField(
        f"dataset {quote(name)}", scope, column, "string", STRING_OPS, sortable=False
    )


_START_TIME = _number("start_time", RunModel.start_time)

RUNS = SearchSchema(
    entity="runs",
    kinds={
        "attribute": NamedFields(
            {
                "run_id": _string("run_id", RunModel.run_id),
                "run_name": _string("run_name", RunModel.name),
                "user_id": _string("user_id", RunModel.user_id),
                "status": _string("status", RunModel.status),
                "artifact_uri": _string("artifact_uri", RunModel.artifact_uri),
                "lifecycle_stage": _string("lifecycle_stage", RunModel.lifecycle_stage),
                "start_time": _START_TIME,
                "end_time": _number("end_time", RunModel.end_time),
            },
            aliases={"created": "start_time", "run name": "run_name"},
        ),
        "metric": KeyedFields(MetricField),
        "param": key_value_fields(
            "param",
            owner=ParamModel.run_id,
            parent=RunModel.run_id,
            key=ParamModel.key,
            value=ParamModel.value,
            within=ParamModel.experiment_id.in_(_searched),
        ),
        "tag": key_value_fields(
            "tag",
            owner=TagModel.run_id,
            parent=RunModel.run_id,
            key=TagModel.key,
            value=TagModel.value,
            within=TagModel.experiment_id.in_(_searched),
        ),
        "dataset": NamedFields(
            {
                "name": _dataset("name", _input_of_run, DatasetModel.name),
                "digest": _dataset("digest", _input_of_run, DatasetModel.digest),
                "context": _dataset("context", _context_of_run, RunInputTagModel.value),
            }
        ),
    },
    default_order=(RunModel.start_time.desc().nulls_last(), RunModel.run_id.asc()),
)


def runs_filter(filter_string: str | None) -> list[Term]:
    """The clauses over ``RunModel`` of an MLflow-style filter's top-level AND (none for no
    filter). The statement they go into restricts the runs to the experiments searched, and is
    executed with their ids as ``SEARCHED_EXPERIMENTS``."""
    return compile_terms(RUNS, filter_string)


def runs_order_by(order_by: Sequence[str]) -> list[ColumnElement[Any]]:
    """ORDER BY expressions for ``order_by``, then ``start_time DESC, run_id ASC``."""
    return compile_order_by(RUNS, order_by)


def sorted_by_start_time(order_by: Sequence[str]) -> bool:
    """Whether the first ``order_by`` clause (or, with none, the default order) sorts by
    start time: the order of the experiment index."""
    clauses = [clause for clause in order_by if clause.strip()]
    if not clauses:
        return True
    first = parse_order_by(clauses[0])
    return RUNS.resolve(first.kind, first.key, first.text, "order_by clause") is _START_TIME
