"""kernel: duplicate candidates of residents and reversible merges (data quality)

Revision ID: k0016_quality_duplicates
Revises: k0015_notices
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "k0016_quality_duplicates"
down_revision = "k0015_notices"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kernel_quality_duplicate",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("resident_a", sa.Integer(), sa.ForeignKey("kernel_resident.id"), nullable=False),
        sa.Column("resident_b", sa.Integer(), sa.ForeignKey("kernel_resident.id"), nullable=False),
        sa.Column("reason", sa.String(20), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("found_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(64), nullable=True),
        sa.UniqueConstraint("resident_a", "resident_b", name="uq_kernel_quality_duplicate"),
    )
    op.create_index("ix_kernel_quality_duplicate_status", "kernel_quality_duplicate", ["status"])
    op.create_table(
        "kernel_quality_merge",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "pair_id", sa.Integer(), sa.ForeignKey("kernel_quality_duplicate.id"), nullable=True
        ),
        sa.Column("kept_id", sa.Integer(), sa.ForeignKey("kernel_resident.id"), nullable=False),
        sa.Column("merged_id", sa.Integer(), sa.ForeignKey("kernel_resident.id"), nullable=False),
        sa.Column("moved", sa.JSON(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_username", sa.String(64), nullable=True),
        sa.Column("undone_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("undone_by", sa.String(64), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("kernel_quality_merge")
    op.drop_index("ix_kernel_quality_duplicate_status", "kernel_quality_duplicate")
    op.drop_table("kernel_quality_duplicate")
