"""kernel: attempt counters shared by every worker process (login, verification, sign-up limits)

Revision ID: k0009_throttles
Revises: k0008_calendar
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "k0009_throttles"
down_revision = "k0008_calendar"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kernel_throttle",
        sa.Column("bucket", sa.String(60), primary_key=True),
        sa.Column("key_hash", sa.String(64), primary_key=True),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("resets_at", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("kernel_throttle")
