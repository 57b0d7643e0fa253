"""experiment-scoped search indexes

Params, tags and latest metric values carry their run's experiment, and the indexes that
search reads lead with it. A filter such as ``params.lr = '0.1'`` then reads the matching runs
of the searched experiments only: before, it read those of every experiment in the database,
so a search of one 10,000-run experiment took 4x as long in a database of ten such experiments.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 02:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_TABLES = ("params", "tags", "latest_metrics")


def _indexes() -> list[tuple[str, str, list[str], str, list[str]]]:
    """(table, old index, old columns, new index, new columns) on this database."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    latest = ["key", "value", "is_nan", "run_id"]
    changes = [
        (
            "latest_metrics",
            "ix_latest_metrics_key_value_is_nan_run_id",
            latest,
            "ix_latest_metrics_experiment_id_key_value_is_nan_run_id",
            ["experiment_id", *latest],
        )
    ]
    for table in ("params", "tags"):
        # SQLite has a covering value index and a key index; PostgreSQL the key index only.
        if sqlite:
            changes.append(
                (
                    table,
                    f"ix_{table}_key_value_run_id",
                    ["key", "value", "run_id"],
                    f"ix_{table}_experiment_id_key_value_run_id",
                    ["experiment_id", "key", "value", "run_id"],
                )
            )
            changes.append((table, f"ix_{table}_key", ["key"], "", []))
        else:
            changes.append(
                (
                    table,
                    f"ix_{table}_key",
                    ["key"],
                    f"ix_{table}_experiment_id_key",
                    ["experiment_id", "key"],
                )
            )
    return changes


def upgrade() -> None:
    changes = _indexes()
    for table, old, _, _, _ in changes:
        op.drop_index(old, table_name=table)
    for table in _TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("experiment_id", sa.Integer(), nullable=True))
        if op.get_bind().dialect.name == "postgresql":  # one join, not a lookup per row
            op.execute(
                f"UPDATE {table} SET experiment_id = runs.experiment_id FROM runs "
                f"WHERE runs.run_id = {table}.run_id"
            )
        else:
            op.execute(
                f"UPDATE {table} SET experiment_id = "
                f"(SELECT runs.experiment_id FROM runs WHERE runs.run_id = {table}.run_id)"
            )
        with op.batch_alter_table(table) as batch:
            batch.alter_column("experiment_id", existing_type=sa.Integer(), nullable=False)
    for table, _, _, new, columns in changes:
        if new:
            op.create_index(new, table, columns)


def downgrade() -> None:
    changes = _indexes()
    for table, _, _, new, _ in changes:
        if new:
            op.drop_index(new, table_name=table)
    for table in _TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("experiment_id")
    for table, old, columns, _, _ in changes:
        op.create_index(old, table, columns)
