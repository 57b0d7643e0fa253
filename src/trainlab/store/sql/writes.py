"""What a logging call writes to a run, inside the caller's transaction: validated params
(immutable once set), tags (last write wins), metric rows, logged-model links."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from itertools import repeat
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from trainlab.entities import Metric, MetricColumns
from trainlab.entities.tags import PARENT_RUN_TAG, RUN_NAME_TAG
from trainlab.exceptions import InvalidParameterValue
from trainlab.store.sql.fastpath import METRIC_COLUMNS, insert_param_rows, upsert_tag_rows
from trainlab.store.sql.models import LoggedModelModel, RunModel, RunModelIOModel
from trainlab.store.sql.uow import upsert_insert
from trainlab.validation import (
    INT64_MAX,
    INT64_MIN,
    validate_int64,
    validate_key,
    validate_metric_value,
    validate_timestamp,
)


def metric_rows(run_id: str, metrics: Sequence[Metric]) -> list[tuple[Any, ...]]:
    """Validated rows in ``METRIC_COLUMNS`` order (the first 6 of them for ``MetricColumns``)."""
    if isinstance(metrics, MetricColumns):
        return _column_rows(run_id, metrics)
    for key in {m.key for m in metrics}:
        validate_key(key, "metric key")
    rows: list[tuple[Any, ...]] = []
    append = rows.append
    for key, value, timestamp, step, _, ds_name, ds_digest, model_id in metrics:
        # Fast checks first; the precise message is built only for a bad point.
        if type(value) is not float:
            value = validate_metric_value(value, key)
        if type(timestamp) is not int or not 0 <= timestamp <= INT64_MAX:
            validate_timestamp(timestamp, f"timestamp of metric '{key}'")
        if type(step) is not int or not INT64_MIN <= step <= INT64_MAX:
            validate_int64(step, f"step of metric '{key}'")
        nan = value != value
        append(
            (
                run_id,
                key,
                step,
                timestamp,
                0.0 if nan else value,
                nan,
                ds_name,
                ds_digest,
                model_id,
            )
        )
    return rows


def _column_rows(run_id: str, c: MetricColumns) -> list[tuple[Any, ...]]:
    """Rows of (run_id, key, step, timestamp, value, is_nan). The checks run over whole columns
    in C (``map``, ``min``, ``max``); a column that fails them is walked point by point for the
    precise message."""
    keys: Iterable[object] = c.keys if set(map(type, c.keys)) - {str} else set(c.keys)
    for key in keys:
        validate_key(key, "metric key")
    values: Sequence[Any] = c.values
    if set(map(type, values)) - {float}:
        values = [validate_metric_value(v, k) for v, k in zip(values, c.keys, strict=True)]
    for what, column, low, check in (
        ("timestamp", c.timestamps, 0, validate_timestamp),
        ("step", c.steps, INT64_MIN, validate_int64),
    ):
        if column and (
            set(map(type, column)) != {int} or min(column) < low or max(column) > INT64_MAX
        ):
            for v, k in zip(column, c.keys, strict=True):
                check(v, f"{what} of metric '{k}'")
    nans: Iterable[bool] = repeat(False)
    if any(map(math.isnan, values)):
        nans = list(map(math.isnan, values))
        values = [0.0 if nan else v for v, nan in zip(values, nans, strict=True)]
    return list(zip(repeat(run_id), c.keys, c.steps, c.timestamps, values, nans))


def insert_params(s: Session, run_id: str, experiment_id: int, values: dict[str, str]) -> None:
    for key, value in insert_param_rows(s, run_id, experiment_id, values).items():
        if value != values[key]:
            raise InvalidParameterValue(
                f"Changing param values is not allowed. Param '{key}' of run {run_id} was "
                f"already logged with value {value!r}; attempted {values[key]!r}. Params are "
                "immutable: log the new value under a different key or in a new run."
            )


def upsert_tags(s: Session, run_id: str, experiment_id: int, values: dict[str, str]) -> None:
    """Set tags; the tags that mirror a run attribute (its parent, its name) move it too."""
    upsert_tag_rows(s, run_id, experiment_id, values)
    moved = {}
    if PARENT_RUN_TAG in values:
        moved["parent_run_id"] = values[PARENT_RUN_TAG]
    if RUN_NAME_TAG in values:
        moved["name"] = values[RUN_NAME_TAG]
    if moved:
        s.execute(update(RunModel).where(RunModel.run_id == run_id).values(**moved))


def _missing_models(s: Session, model_ids: Iterable[str]) -> list[str]:
    """Those of ``model_ids`` no logged model has (a deleted one counts), sorted."""
    named = set(model_ids)
    if not named:
        return []
    found = s.scalars(select(LoggedModelModel.model_id).where(LoggedModelModel.model_id.in_(named)))
    return sorted(named - set(found))


def check_metric_models(s: Session, rows: Sequence[tuple[Any, ...]]) -> None:
    """The logged models that points name (``model_id``, the last of a full row) exist (a
    deleted one too, as MLflow's foreign key allows)."""
    if not rows or len(rows[0]) < len(METRIC_COLUMNS):
        return
    named = {r[-1]: r[1] for r in rows if r[-1] is not None}
    missing = _missing_models(s, named)
    if missing:
        raise InvalidParameterValue(
            f"Invalid model_id {missing[0]!r} of metric '{named[missing[0]]}': there is no "
            "logged model with that ID."
        )


def insert_model_io(
    s: Session, run_id: str, models: Sequence[tuple[str, int]], direction: str
) -> None:
    if not models:
        return
    missing = _missing_models(s, (m for m, _ in models))
    if missing:
        shown = repr(missing[0]) if len(missing[0]) <= 80 else repr(missing[0][:77] + "...")
        raise InvalidParameterValue(
            f"Invalid model_id {shown} in the run's {direction}s: there is no logged model with "
            "that ID."
        )
    stmt = upsert_insert(s, RunModelIOModel)
    stmt = stmt.on_conflict_do_update(
        index_elements=["run_id", "model_id", "direction"], set_={"step": stmt.excluded.step}
    )
    rows = [
        {"run_id": run_id, "model_id": m, "direction": direction, "step": step}
        for m, step in models
    ]
    s.execute(stmt, rows)
