"""where a copied model version's artifacts are

A version copied from another (MLflow's ``copy_model_version``: source ``models:/<name>/<n>``)
records the original's artifact location when it is copied, as MLflow's ``storage_location``
does. Resolving the source later would follow the original wherever it went: deleted, or
replaced by a new model of the same name (even in a loop of copies).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 02:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("model_versions") as batch:
        batch.add_column(sa.Column("storage_location", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("model_versions") as batch:
        batch.drop_column("storage_location")
