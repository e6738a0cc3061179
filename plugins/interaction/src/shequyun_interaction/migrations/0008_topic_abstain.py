"""interaction: a topic may allow 弃权 (abstaining counts in the turnout, for no option)

Revision ID: interaction_0008
Revises: interaction_0007
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "interaction_0008"
down_revision = "interaction_0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("interaction_topic") as batch:
        batch.add_column(
            sa.Column("allow_abstain", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("interaction_topic") as batch:
        batch.drop_column("allow_abstain")
