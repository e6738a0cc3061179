"""kernel: the data key's canary, checked at every start (see residents/keycheck.py)

Revision ID: k0013_key_canary
Revises: k0012_quality
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "k0013_key_canary"
down_revision = "k0012_quality"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kernel_key_canary",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("sealed", sa.Text(), nullable=False),
        sa.Column("lookup_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("kernel_key_canary")
