"""kernel: in-portal notices for users (new task, reminder, returned, approaching deadline)

Revision ID: k0015_notices
Revises: k0014_resident_household_index
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "k0015_notices"
down_revision = "k0014_resident_household_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kernel_notice",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("kernel_user.id"), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("body", sa.String(1000), nullable=False),
        sa.Column("link", sa.String(300), nullable=False),
        sa.Column("key", sa.String(120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("user_id", "key", name="uq_kernel_notice_key"),
    )
    op.create_index("ix_kernel_notice_unread", "kernel_notice", ["user_id", "read_at"])


def downgrade() -> None:
    op.drop_index("ix_kernel_notice_unread", table_name="kernel_notice")
    op.drop_table("kernel_notice")
