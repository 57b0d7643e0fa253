"""Search schema of experiments: name, experiment_id, creation/last-update time, tags."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement

from trainlab.store.search._compile import (
    ID_OPS,
    NUMERIC_OPS,
    STRING_OPS,
    ColumnField,
    NamedFields,
    SearchSchema,
    compile_filter,
    compile_order_by,
    key_value_fields,
)
from trainlab.store.sql.models import ExperimentModel, ExperimentTagModel

EXPERIMENTS = SearchSchema(
    entity="experiments",
    kinds={
        "attribute": NamedFields(
            {
                "name": ColumnField("attribute 'name'", ExperimentModel.name, "string", STRING_OPS),
                "experiment_id": ColumnField(
                    "attribute 'experiment_id'", ExperimentModel.experiment_id, "id", ID_OPS
                ),
                "creation_time": ColumnField(
                    "attribute 'creation_time'",
                    ExperimentModel.creation_time,
                    "number",
                    NUMERIC_OPS,
                ),
                "last_update_time": ColumnField(
                    "attribute 'last_update_time'",
                    ExperimentModel.last_update_time,
                    "number",
                    NUMERIC_OPS,
                ),
            }
        ),
        "tag": key_value_fields(
            "tag",
            owner=ExperimentTagModel.experiment_id,
            parent=ExperimentModel.experiment_id,
            key=ExperimentTagModel.key,
            value=ExperimentTagModel.value,
        ),
    },
    default_order=(
        ExperimentModel.creation_time.desc().nulls_last(),
        ExperimentModel.experiment_id.asc(),
    ),
)


def experiments_filter(filter_string: str | None) -> ColumnElement[bool] | None:
    """A WHERE clause over ``ExperimentModel``; None for no filter."""
    return compile_filter(EXPERIMENTS, filter_string)


def experiments_order_by(order_by: Sequence[str]) -> list[ColumnElement[Any]]:
    """ORDER BY expressions for ``order_by``, then ``creation_time DESC, experiment_id ASC``."""
    return compile_order_by(EXPERIMENTS, order_by)
