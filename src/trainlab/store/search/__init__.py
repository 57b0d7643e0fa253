"""Search filter grammar: text -> AST (lark) -> SQLAlchemy clauses with bound parameters.

Shared by runs, experiments and (later) the model registry. The grammar is MLflow's plus ``OR``
and parentheses; see ``_parser`` for the syntax, ``_compile`` for the typing rules and the
entity-independent core, ``_runs``/``_experiments`` for what each entity accepts.

Extensions over MLflow (every MLflow filter keeps its meaning) and semantic notes:

* ``OR`` and parentheses (``AND`` binds tighter); keywords, entity prefixes and attribute names
  are case-insensitive; unquoted keys may contain ``/ - : .`` (``metrics.train/loss``).
* ``IN`` / ``NOT IN`` on params, tags and every string attribute (MLflow: run_id only).
* ``IS NULL`` / ``IS NOT NULL`` on metrics and on ``start_time``/``end_time`` as well as on
  params and tags. On a key-value kind, IS NULL means "the run has no such key".
* Numbers may be ``inf``, ``-inf`` or ``nan``; ``metrics.x = nan`` / ``!= nan`` find runs whose
  latest value is (not) NaN; NaN is otherwise ``!=`` every number and matches no ordering test.
* LIKE is case-sensitive and ILIKE case-insensitive on SQLite and PostgreSQL alike; in both, a
  backslash escapes ``%``, ``_`` and itself.
* ``!=``/``NOT IN``/LIKE on a param, tag, metric or dataset need the key to exist (as in MLflow's
  SQL store): ``tags.env != 'prod'`` does not match runs without an ``env`` tag.
* Blank ``order_by`` entries are ignored; experiments may also be ordered by ``tags.<key>``.
"""

from __future__ import annotations

from trainlab.store.search._ast import OPERATORS, And, Comparison, Kind, Node, Or, OrderBy, Value
from trainlab.store.search._compile import (
    ID_OPS,
    MAX_JOINED_LISTS,
    NULL_OPS,
    NUMERIC_OPS,
    STRING_OPS,
    ColumnField,
    ExistsField,
    Field,
    FieldSet,
    KeyedFields,
    NamedFields,
    SearchSchema,
    Term,
    compile_filter,
    compile_node,
    compile_order_by,
    intersect_lists,
    key_value_fields,
    like_to_glob,
)
from trainlab.store.search._experiments import (
    EXPERIMENTS,
    experiments_filter,
    experiments_order_by,
)
from trainlab.store.search._logged_models import (
    LOGGED_MODELS,
    logged_models_filter,
    logged_models_order_by,
)
from trainlab.store.search._parser import named_keys, parse_filter, parse_order_by
from trainlab.store.search._registry import (
    MODEL_VERSIONS,
    REGISTERED_MODELS,
    model_versions_filter,
    model_versions_order_by,
    registered_models_filter,
    registered_models_order_by,
)
from trainlab.store.search._runs import (
    RUNS,
    SEARCHED_EXPERIMENTS,
    runs_filter,
    runs_order_by,
    searched_experiments,
    sorted_by_start_time,
)

__all__ = [
    "MODEL_VERSIONS",
    "REGISTERED_MODELS",
    "model_versions_filter",
    "model_versions_order_by",
    "registered_models_filter",
    "registered_models_order_by",
    "LOGGED_MODELS",
    "logged_models_filter",
    "logged_models_order_by",
    "EXPERIMENTS",
    "ID_OPS",
    "NULL_OPS",
    "NUMERIC_OPS",
    "OPERATORS",
    "RUNS",
    "SEARCHED_EXPERIMENTS",
    "STRING_OPS",
    "And",
    "ColumnField",
    "Comparison",
    "ExistsField",
    "Field",
    "FieldSet",
    "KeyedFields",
    "Kind",
    "NamedFields",
    "Node",
    "Or",
    "OrderBy",
    "SearchSchema",
    "MAX_JOINED_LISTS",
    "Term",
    "Value",
    "compile_filter",
    "compile_node",
    "compile_order_by",
    "experiments_filter",
    "experiments_order_by",
    "intersect_lists",
    "key_value_fields",
    "like_to_glob",
    "named_keys",
    "parse_filter",
    "parse_order_by",
    "runs_filter",
    "runs_order_by",
    "searched_experiments",
    "sorted_by_start_time",
]
