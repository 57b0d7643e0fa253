"""Search schemas of the model registry: registered models and model versions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, literal, or_, tuple_

from trainlab.entities.registry import IS_PROMPT_TAG
from trainlab.store.search._ast import And, Comparison, Node, Or, quote
from trainlab.store.search._compile import (
    NULL_OPS,
    NUMERIC_OPS,
    STRING_OPS,
    ColumnField,
    ExistsField,
    Field,
    KeyedFields,
    NamedFields,
    SearchSchema,
    ValueType,
    compare,
    compile_filter,
    compile_order_by,
)
from trainlab.store.search._parser import parse_filter
from trainlab.store.sql.models import (
    ModelVersionModel,
    ModelVersionTagModel,
    RegisteredModelModel,
    RegisteredModelTagModel,
)

_RM = RegisteredModelModel
_RMT = RegisteredModelTagModel
_MV = ModelVersionModel
_MVT = ModelVersionTagModel
_TAG_OPS = STRING_OPS | NULL_OPS


def _f(
    name: str, column: Any, kind: ValueType = "string", ops: frozenset[str] = STRING_OPS
) -> ColumnField:
    return ColumnField(f"attribute '{name}'", column, kind, ops)


class _PromptTagField(ExistsField):
    """The tag that marks MLflow's prompts (``mlflow.prompt.is_prompt``). As in MLflow, an
    entity without it counts as 'false': the stock client keeps prompts out of every model
    search with ``tags.`mlflow.prompt.is_prompt` != 'true'``, which must match the models that
    lack the tag. Every other tag matches only the entities that have it, as run tags do."""

    def where(self, op: str, value: Any) -> ColumnElement[bool]:
        if op in NULL_OPS:
            return super().where(op, value)
        missing = ~exists().where(self.scope)
        return or_(super().where(op, value), and_(missing, compare(literal("false"), op, value)))


def _tag_fields(owner: Any, parent: Any, key: Any, value: Any) -> KeyedFields:
    """Tags of the table whose key columns ``owner`` (a ``tuple_``) reference ``parent``'s.
    A clause tests each entity (``EXISTS``): the tag tables have no (key, value) index, and a
    filter usually names the model. The link lists a clause's matches only to intersect many
    clauses (see ``compile_terms``): PostgreSQL took 4 s to plan 100 ``EXISTS``. The prompt
    tag matches entities without it too, so it lists nothing."""
    scope = and_(*(o == p for o, p in zip(owner.clauses, parent.clauses, strict=True)))

    def make(name: str) -> Field:
        label = f"tag {quote(name)}"
        if name == IS_PROMPT_TAG:
            return _PromptTagField(label, and_(scope, key == name), value, "string", _TAG_OPS)
        link = (owner, parent, key == name)
        return ExistsField(
            label, and_(scope, key == name), value, "string", _TAG_OPS, link=link, semi_join=False
        )

    return KeyedFields(make)


REGISTERED_MODELS = SearchSchema(
    entity="registered models",
    kinds={
        "attribute": NamedFields(
            {
                "name": _f("name", _RM.name),
                "creation_timestamp": _f(
                    "creation_timestamp", _RM.creation_timestamp, "number", NUMERIC_OPS
                ),
                "last_updated_timestamp": _f(
                    "last_updated_timestamp", _RM.last_updated_timestamp, "number", NUMERIC_OPS
                ),
                "timestamp": _f("timestamp", _RM.last_updated_timestamp, "number", NUMERIC_OPS),
            }
        ),
        "tag": _tag_fields(tuple_(_RMT.name), tuple_(_RM.name), _RMT.key, _RMT.value),
    },
    default_order=(_RM.name.asc(),),
)


MODEL_VERSIONS = SearchSchema(
    entity="model versions",
    kinds={
        "attribute": NamedFields(
            {
                "name": _f("name", _MV.name),
                "version_number": _f("version_number", _MV.version, "number", NUMERIC_OPS),
                "run_id": _f("run_id", _MV.run_id),
                "source_path": _f("source_path", _MV.source),
                "current_stage": _f("current_stage", _MV.current_stage),
                "model_id": _f("model_id", _MV.model_id),
                "creation_timestamp": _f(
                    "creation_timestamp", _MV.creation_timestamp, "number", NUMERIC_OPS
                ),
                "last_updated_timestamp": _f(
                    "last_updated_timestamp", _MV.last_updated_timestamp, "number", NUMERIC_OPS
                ),
            }
        ),
        "tag": _tag_fields(
            tuple_(_MVT.name, _MVT.version), tuple_(_MV.name, _MV.version), _MVT.key, _MVT.value
        ),
    },
    default_order=(_MV.last_updated_timestamp.desc(), _MV.name.asc(), _MV.version.desc()),
    tiebreak=(_MV.name.asc(), _MV.version.desc()),  # as MLflow's
)


def registered_models_filter(filter_string: str | None) -> ColumnElement[bool] | None:
    """The filter, and, unless it asks for prompts, no prompts (``_without_prompts``)."""
    prompt = exists().where(_RMT.name == _RM.name, _RMT.key == IS_PROMPT_TAG, _RMT.value == "true")
    return _without_prompts(compile_filter(REGISTERED_MODELS, filter_string), prompt, filter_string)


def registered_models_order_by(order_by: Sequence[str]) -> list[ColumnElement[Any]]:
    return compile_order_by(REGISTERED_MODELS, order_by)


def model_versions_filter(filter_string: str | None) -> ColumnElement[bool] | None:
    """The filter, and, unless it asks for prompts, no versions of prompts (of a name with a
    version tagged as a prompt)."""
    prompt = exists().where(_MVT.name == _MV.name, _MVT.key == IS_PROMPT_TAG, _MVT.value == "true")
    return _without_prompts(compile_filter(MODEL_VERSIONS, filter_string), prompt, filter_string)


def model_versions_order_by(order_by: Sequence[str]) -> list[ColumnElement[Any]]:
    return compile_order_by(MODEL_VERSIONS, order_by)


def _without_prompts(
    clause: ColumnElement[bool] | None, prompt: ColumnElement[bool], filter_string: str | None
) -> ColumnElement[bool] | None:
    """``clause`` and not ``prompt``, as MLflow's server searches models and versions for any
    client; a filter that asks for prompts (``tags.`mlflow.prompt.is_prompt` = 'true'`` or
    ``!= 'false'``) gets them."""
    if _asks_for_prompts(parse_filter(filter_string)):
        return clause
    return ~prompt if clause is None else and_(clause, ~prompt)


def _asks_for_prompts(node: Node | None) -> bool:
    if isinstance(node, And | Or):
        return any(_asks_for_prompts(item) for item in node.items)
    if not isinstance(node, Comparison) or node.kind != "tag" or node.key != IS_PROMPT_TAG:
        return False
    value = node.value.lower() if isinstance(node.value, str) else None
    return (node.op, value) in (("=", "true"), ("!=", "false"))
