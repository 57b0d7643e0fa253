"""The hot paths of metric points: writes go to the driver in one ``executemany`` per table,
reads come back from a plain driver cursor (a 100,000-point history is 3x faster than through
SQLAlchemy's result rows). Statements are constants built once per dialect; every value is
bound."""

from __future__ import annotations

import functools
from itertools import chain
from operator import itemgetter
from typing import Any, NamedTuple, cast

from sqlalchemy.orm import Session

METRIC_COLUMNS = (
    "run_id",
    "key",
    "step",
    "timestamp",
    "value",
    "is_nan",
    "dataset_name",
    "dataset_digest",
    "model_id",
)
_LATEST_UPDATED = METRIC_COLUMNS[2:]
_KEY = itemgetter(1)
_MODEL_ID = METRIC_COLUMNS.index("model_id")
_NEWEST_ORDER = itemgetter(2, 3, 4)  # step, timestamp, value


# A run's points name no model, as MLflow's do not: the stock client's log_model links a run's
# points to the new model only where they name none. A model's points are read from the model.
_HISTORY_COLUMNS = '"step", "timestamp", "value", "is_nan", "dataset_name", "dataset_digest"'


@functools.cache
def _history_statement(dialect: str, paged: bool) -> str:
    mark = "%s" if dialect == "postgresql" else "?"
    sql = (
        f'SELECT {_HISTORY_COLUMNS} FROM metrics WHERE "run_id" = {mark} AND "key" = {mark} '
        'ORDER BY "step", "timestamp", "value"'
    )
    return sql + f" LIMIT {mark} OFFSET {mark}" if paged else sql


def metric_history(
    s: Session, run_id: str, key: str, limit: int | None, offset: int
) -> list[tuple[Any, ...]]:
    """(step, timestamp, value, is_nan, dataset_name, dataset_digest) rows in order."""
    conn = s.connection()
    sql = _history_statement(conn.dialect.name, limit is not None)
    params: tuple[Any, ...] = (run_id, key) if limit is None else (run_id, key, limit, offset)
    cursor = conn.connection.cursor()
    try:
        cursor.execute(sql, params)
        return cast(list[tuple[Any, ...]], cursor.fetchall())
    finally:
        cursor.close()


# What a run's children are read from, and the columns read (the run id first).
_CHILDREN = {
    "params": ("params", '"run_id", "key", "value"'),
    "tags": ("tags", '"run_id", "key", "value"'),
    "latest_metrics": (
        "latest_metrics",
        '"run_id", "key", "value", "is_nan", "timestamp", "step", "dataset_name", "dataset_digest"',
    ),
    "run_inputs": (
        'run_inputs JOIN datasets ON datasets."dataset_id" = run_inputs."dataset_id"',
        '"run_id", datasets."dataset_id", "name", "digest", "source_type", "source", "schema", '
        '"profile"',
    ),
    "run_input_tags": ("run_input_tags", '"run_id", "dataset_id", "key", "value"'),
    "run_model_io": ("run_model_io", '"run_id", "direction", "model_id", "step"'),
}


def child_rows(s: Session, table: str, run_ids: list[str]) -> list[tuple[Any, ...]]:
    """All rows of one of ``_CHILDREN`` for ``run_ids``, as plain tuples, in no set order:
    loading the children of a page of 1,000 runs is the bulk of a search's time."""
    conn = s.connection()
    mark = "%s" if conn.dialect.name == "postgresql" else "?"
    marks = ", ".join([mark] * len(run_ids))
    source, columns = _CHILDREN[table]
    sql = f'SELECT {columns} FROM {source} WHERE "run_id" IN ({marks})'
    cursor = conn.connection.cursor()
    try:
        cursor.execute(sql, tuple(run_ids))
        return cast(list[tuple[Any, ...]], cursor.fetchall())
    finally:
        cursor.close()


# Points per history INSERT. A statement of many rows is one step of the driver for all of
# them. Measured against a row per statement: plain sqlite3 inserts 1.7x the rows a second; a
# 1,000-point log_batch took 3.4-3.6 ms, not 4.0-4.3 (SQLite); PostgreSQL took 1.2x the points;
# 1,000,000 points through the SDK and a server took about 4.0 s, not 4.9.
_ROWS_PER_INSERT = 50


@functools.cache
def _history_insert(dialect: str, width: int, rows: int) -> str:
    """The insert of ``rows`` history points, each of the first ``width`` of ``METRIC_COLUMNS``
    (points without dataset or model bind 6 values, not 9)."""
    mark = "%s" if dialect == "postgresql" else "?"
    columns = ", ".join(f'"{c}"' for c in METRIC_COLUMNS[:width])
    values = ", ".join([f"({', '.join([mark] * width)})"] * rows)
    return f"INSERT INTO metrics ({columns}) VALUES {values} ON CONFLICT DO NOTHING"


@functools.cache
def _model_points_insert(dialect: str) -> str:
    """The insert of points linked to a logged model, from rows of all 9 ``METRIC_COLUMNS``."""
    mark = "%s" if dialect == "postgresql" else "?"
    columns = ", ".join(f'"{c}"' for c in METRIC_COLUMNS)
    values = ", ".join([mark] * len(METRIC_COLUMNS))
    return f"INSERT INTO logged_model_metrics ({columns}) VALUES ({values}) ON CONFLICT DO NOTHING"


@functools.cache
def _latest_upsert(dialect: str, width: int) -> str:
    mark = "%s" if dialect == "postgresql" else "?"
    columns = ", ".join(f'"{c}"' for c in METRIC_COLUMNS[:width])
    values = ", ".join([mark] * width)
    updates = ", ".join(f'"{c}" = excluded."{c}"' for c in _LATEST_UPDATED)
    return (
        f'INSERT INTO latest_metrics ("experiment_id", {columns}) VALUES ({mark}, {values}) '
        f'ON CONFLICT ("run_id", "key") DO UPDATE SET {updates} '
        'WHERE (excluded."step", excluded."timestamp", excluded."value") >= '
        '(latest_metrics."step", latest_metrics."timestamp", latest_metrics."value")'
    )


def insert_metrics(s: Session, experiment_id: int, rows: list[tuple[Any, ...]]) -> None:
    """Append points (identical points collapse), also to their logged model's points, and
    move each key's latest value forward: the newest point is the one with the highest (step,
    timestamp, value). Rows hold the first 6 or all 9 of ``METRIC_COLUMNS``, all of one width,
    all of one run (of experiment ``experiment_id``)."""
    conn = s.connection()
    dialect, width = conn.dialect.name, len(rows[0])
    n, whole = _ROWS_PER_INSERT, len(rows) - len(rows) % _ROWS_PER_INSERT
    if whole:
        conn.exec_driver_sql(
            _history_insert(dialect, width, n),
            [tuple(chain.from_iterable(rows[i : i + n])) for i in range(0, whole, n)],
        )
    if whole < len(rows):
        conn.exec_driver_sql(_history_insert(dialect, width, 1), rows[whole:])
    linked = [r for r in rows if r[_MODEL_ID] is not None] if width > _MODEL_ID else []
    if linked:  # also the model's, even when the run's history had the point already
        conn.exec_driver_sql(_model_points_insert(dialect), linked)
    # Each key's newest row: the last of its rows in (step, timestamp, value) order, the sort
    # stable (a tie goes to the row logged last); a NaN is stored as 0.0, so rows compare.
    ordered = sorted(rows, key=_NEWEST_ORDER)
    newest = dict(zip(map(_KEY, ordered), ordered, strict=True))
    # Keys in a fixed order, so concurrent upserts of one run cannot deadlock.
    conn.exec_driver_sql(
        _latest_upsert(dialect, width), [(experiment_id, *newest[k]) for k in sorted(newest)]
    )


# Params, tags and the writable check of log_batch: constant statements through the driver, as
# for metric points (the ORM's per-statement work was most of a small batch's time).


def _cursor_run(s: Session, sql: str, params: Any, many: bool = False) -> list[tuple[Any, ...]]:
    conn = s.connection()
    cursor = conn.connection.cursor()
    try:
        if many:
            cursor.executemany(sql, params)
            return []
        cursor.execute(sql, params)
        return cast(list[tuple[Any, ...]], cursor.fetchall()) if cursor.description else []
    finally:
        cursor.close()


def _mark(s: Session) -> str:
    return "%s" if s.connection().dialect.name == "postgresql" else "?"


def run_state(s: Session, run_id: str) -> tuple[str, int] | None:
    """The run's lifecycle stage and experiment, or None when there is no such run."""
    rows = _cursor_run(
        s,
        f'SELECT "lifecycle_stage", "experiment_id" FROM runs WHERE "run_id" = {_mark(s)}',
        (run_id,),
    )
    return (str(rows[0][0]), int(rows[0][1])) if rows else None


def insert_param_rows(
    s: Session, run_id: str, experiment_id: int, values: dict[str, str]
) -> dict[str, str]:
    """Insert params (an existing key keeps its value); the stored values of those keys."""
    m = _mark(s)
    rows = [(run_id, experiment_id, k, values[k]) for k in sorted(values)]
    _cursor_run(
        s,
        f'INSERT INTO params ("run_id", "experiment_id", "key", "value") '
        f"VALUES ({m}, {m}, {m}, {m}) ON CONFLICT DO NOTHING",
        rows,
        many=True,
    )
    keys = sorted(values)
    marks = ", ".join([m] * len(keys))
    stored = _cursor_run(
        s,
        f'SELECT "key", "value" FROM params WHERE "run_id" = {m} AND "key" IN ({marks})',
        (run_id, *keys),
    )
    return {str(k): str(v) for k, v in stored}


def upsert_tag_rows(s: Session, run_id: str, experiment_id: int, values: dict[str, str]) -> None:
    m = _mark(s)
    _cursor_run(
        s,
        f'INSERT INTO tags ("run_id", "experiment_id", "key", "value") '
        f"VALUES ({m}, {m}, {m}, {m}) "
        'ON CONFLICT ("run_id", "key") DO UPDATE SET "value" = excluded."value"',
        [(run_id, experiment_id, k, values[k]) for k in sorted(values)],
        many=True,
    )


# A run's row: created and ended once per run (per trial of a study), through the driver too.
class RunRow(NamedTuple):
    """The columns of ``runs`` that make a ``RunInfo`` (named as ``RunModel``'s attributes)."""

    run_id: str
    experiment_id: int
    name: str
    user_id: str
    status: str
    start_time: int | None
    end_time: int | None
    artifact_uri: str
    lifecycle_stage: str


def _quoted(columns: tuple[str, ...]) -> str:
    return ", ".join(f'"{c}"' for c in columns)


def update_run_row(
    s: Session, run_id: str, status: str | None, end_time: int | None, name: str | None
) -> RunRow | None:
    """Set the given fields of an active run's row (None leaves a field as it is); the row as
    it is now, or None when there is no such active run."""
    m = _mark(s)
    rows = _cursor_run(
        s,
        f'UPDATE runs SET "status" = COALESCE({m}, "status"), '
        f'"end_time" = COALESCE({m}, "end_time"), "name" = COALESCE({m}, "name") '
        f'WHERE "run_id" = {m} AND "lifecycle_stage" = \'active\' '
        f"RETURNING {_quoted(RunRow._fields)}",
        (status, end_time, name, run_id),
    )
    return RunRow(*rows[0]) if rows else None


def experiment_for_run(s: Session, experiment_id: int) -> tuple[str, str] | None:
    """(lifecycle_stage, artifact_location) of the experiment, or None when there is none."""
    rows = _cursor_run(
        s,
        'SELECT "lifecycle_stage", "artifact_location" FROM experiments '
        f'WHERE "experiment_id" = {_mark(s)}',
        (experiment_id,),
    )
    return (str(rows[0][0]), str(rows[0][1])) if rows else None


def insert_run_row(s: Session, values: dict[str, Any]) -> None:
    """A new run's row: ``values`` holds every column of ``runs`` but deleted_time."""
    columns = (*RunRow._fields, "parent_run_id")
    marks = ", ".join([_mark(s)] * len(columns))
    sql = f"INSERT INTO runs ({_quoted(columns)}) VALUES ({marks})"
    _cursor_run(s, sql, tuple(values[c] for c in columns))
