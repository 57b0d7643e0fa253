"""Search schema of logged models: attributes, params and tags."""

from __future__ import annotations

from sqlalchemy import ColumnElement

from trainlab.store.search._compile import (
    NUMERIC_OPS,
    STRING_OPS,
    ColumnField,
    NamedFields,
    SearchSchema,
    compile_filter,
    key_value_fields,
)
from trainlab.store.sql.models import LoggedModelModel, LoggedModelParamModel, LoggedModelTagModel

_M = LoggedModelModel


def _string(name: str, column: object) -> ColumnField:
    return ColumnField(f"attribute '{name}'", column, "string", STRING_OPS)


def _number(name: str, column: object) -> ColumnField:
    return ColumnField(f"attribute '{name}'", column, "number", NUMERIC_OPS)


LOGGED_MODELS = SearchSchema(
    entity="logged models",
    kinds={
        "attribute": NamedFields(
            {
                "name": _string("name", _M.name),
                "model_id": _string("model_id", _M.model_id),
                "model_type": _string("model_type", _M.model_type),
                "status": _string("status", _M.status),
                "source_run_id": _string("source_run_id", _M.source_run_id),
                "creation_timestamp": _number("creation_timestamp", _M.creation_timestamp),
                "creation_time": _number("creation_time", _M.creation_timestamp),
                "last_updated_timestamp": _number(
                    "last_updated_timestamp", _M.last_updated_timestamp
                ),
                "last_updated_time": _number("last_updated_time", _M.last_updated_timestamp),
            }
        ),
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


def logged_models_filter(filter_string: str | None) -> ColumnElement[bool] | None:
    """A WHERE clause over ``LoggedModelModel``; None for no filter."""
    return compile_filter(LOGGED_MODELS, filter_string)
