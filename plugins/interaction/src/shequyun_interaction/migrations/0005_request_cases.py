"""interaction: a request escalated to the case channel, and its case's state

Revision ID: interaction_0005
Revises: interaction_0004
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "interaction_0005"
down_revision = "interaction_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("interaction_request") as table:
        table.add_column(sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True))
        table.add_column(sa.Column("case_number", sa.String(24), nullable=True))
        table.add_column(sa.Column("case_status", sa.String(12), nullable=True))
        table.add_column(sa.Column("case_status_label", sa.String(20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("interaction_request") as table:
        for name in ("case_status_label", "case_status", "case_number", "escalated_at"):
            table.drop_column(name)
