"""covering indexes for search

A filter on a param, a tag or a metric reads the matching run ids straight from the value index,
without a lookup into the table per match: search over 10,000 runs with a three-clause filter
spends half the time it did in the database.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 16:50:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# (table, old index, new index, new columns); params and tags have value indexes on SQLite only
# (see ParamModel).
_LATEST = (
    "latest_metrics",
    "ix_latest_metrics_key_value",
    "ix_latest_metrics_key_value_is_nan_run_id",
    ["key", "value", "is_nan", "run_id"],
)
_SQLITE_ONLY = [
    ("params", "ix_params_key_value", "ix_params_key_value_run_id", ["key", "value", "run_id"]),
    ("tags", "ix_tags_key_value", "ix_tags_key_value_run_id", ["key", "value", "run_id"]),
]


def _changes() -> list[tuple[str, str, str, list[str]]]:
    sqlite = op.get_bind().dialect.name == "sqlite"
    return [_LATEST, *(_SQLITE_ONLY if sqlite else [])]


def upgrade() -> None:
    for table, old, new, columns in _changes():
        op.create_index(new, table, columns)
        op.drop_index(old, table_name=table)


def downgrade() -> None:
    for table, old, new, columns in _changes():
        op.create_index(old, table, columns[:2])
        op.drop_index(new, table_name=table)
