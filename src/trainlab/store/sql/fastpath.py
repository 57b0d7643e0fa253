"""The hot path of logging: metric points go to the driver in one ``executemany`` per table,
with statements built once per dialect. Statements are constants; every value is bound."""

from __future__ import annotations

import functools
from typing import Any

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


@functools.cache
def _statements(dialect: str) -> tuple[str, str]:
    mark = "%s" if dialect == "postgresql" else "?"
    columns = ", ".join(f'"{c}"' for c in METRIC_COLUMNS)
    values = ", ".join([mark] * len(METRIC_COLUMNS))
    history = f"INSERT INTO metrics ({columns}) VALUES ({values}) ON CONFLICT DO NOTHING"
    updates = ", ".join(f'"{c}" = excluded."{c}"' for c in _LATEST_UPDATED)
    latest = (
        f"INSERT INTO latest_metrics ({columns}) VALUES ({values}) "
        f'ON CONFLICT ("run_id", "key") DO UPDATE SET {updates} '
        'WHERE (excluded."step", excluded."timestamp", excluded."value") >= '
        '(latest_metrics."step", latest_metrics."timestamp", latest_metrics."value")'
    )
    return history, latest


def insert_metrics(s: Session, rows: list[tuple[Any, ...]]) -> None:
    """Append points (identical points collapse) and move each key's latest value forward:
    the newest point is the one with the highest (step, timestamp, value)."""
    conn = s.connection()
    history, latest = _statements(conn.dialect.name)
    conn.exec_driver_sql(history, rows)
    newest: dict[str, tuple[Any, ...]] = {}
    for r in rows:
        cur = newest.get(r[1])
        if cur is None or (r[2], r[3], r[4]) >= (cur[2], cur[3], cur[4]):
            newest[r[1]] = r
    # Keys in a fixed order, so concurrent upserts of one run cannot deadlock.
    conn.exec_driver_sql(latest, [newest[k] for k in sorted(newest)])
