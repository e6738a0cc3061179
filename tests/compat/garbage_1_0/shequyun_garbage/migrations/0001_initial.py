"""garbage: daily check-ins

Revision ID: garbage_0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "garbage_0001"
down_revision = None
branch_labels = ("garbage",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "garbage_checkin",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("unit_code", sa.String(12), nullable=False),
        sa.Column("unit_name", sa.String(80), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("households", sa.Integer(), nullable=False),
        sa.Column("correct_rate", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(200), nullable=False),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("unit_id", "day", name="uq_garbage_checkin_day"),
    )
    op.create_index("ix_garbage_checkin_unit_id", "garbage_checkin", ["unit_id"])


def downgrade() -> None:
    op.drop_table("garbage_checkin")
