"""kernel: 大字模式 kept with the account of a signed-in person, not only in their browser

Revision ID: k0022_display_preference
Revises: k0021_resident_tally
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "k0022_display_preference"
down_revision = "k0021_resident_tally"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kernel_display_preference",
        sa.Column("account_key", sa.String(160), primary_key=True),
        sa.Column("mode", sa.String(10), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("kernel_display_preference")
