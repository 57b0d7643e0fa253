"""the points of logged models in a table of their own

A point logged with a model's id went into the run's history with that id, and a point the
history already held was kept as it was: the stock client, which sends a run's metrics again
with the new model's id when it logs a model, left the model without them. The model's points
now have their own table; the points linked so far are copied into it, and the index that
found them in the history goes.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 13:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_COLUMNS = (
    '"model_id", "key", "step", "timestamp", "value", "is_nan", "run_id", "dataset_name", '
    '"dataset_digest"'
)


def upgrade() -> None:
    op.create_table(
        "logged_model_metrics",
        sa.Column("model_id", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("step", sa.BigInteger(), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("value", sa.Float(precision=53), nullable=False),
        sa.Column("is_nan", sa.Boolean(), nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("dataset_name", sa.String(length=500), nullable=True),
        sa.Column("dataset_digest", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["logged_models.model_id"],
            name=op.f("fk_logged_model_metrics_model_id_logged_models"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["runs.run_id"],
            name=op.f("fk_logged_model_metrics_run_id_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "model_id",
            "key",
            "step",
            "timestamp",
            "value",
            "is_nan",
            "run_id",
            name=op.f("pk_logged_model_metrics"),
        ),
        sqlite_with_rowid=False,
    )
    op.execute(
        f"INSERT INTO logged_model_metrics ({_COLUMNS}) SELECT {_COLUMNS} FROM metrics "
        'WHERE "model_id" IN (SELECT "model_id" FROM logged_models)'
    )
    # A model's points were found through this index; they are read from the new table now.
    op.drop_index("ix_metrics_model_id", table_name="metrics")


def downgrade() -> None:
    op.create_index(
        "ix_metrics_model_id",
        "metrics",
        ["model_id"],
        sqlite_where=sa.text("model_id IS NOT NULL"),
        postgresql_where=sa.text("model_id IS NOT NULL"),
    )
    op.drop_table("logged_model_metrics")
