"""kernel: indicator snapshots (the tree of their day and the values), and pinned indicators

Revision ID: k0011_indicators
Revises: k0010_apps
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "k0011_indicators"
down_revision = "k0010_apps"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kernel_indicator_snapshot",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("period_kind", sa.String(8), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("indicators", sa.JSON(), nullable=False),
    )
    op.create_index(
        "uq_kernel_indicator_snapshot",
        "kernel_indicator_snapshot",
        ["period_kind", "start"],
        unique=True,
    )
    op.create_table(
        "kernel_indicator_snapshot_unit",
        sa.Column(
            "snapshot_id",
            sa.Integer(),
            sa.ForeignKey("kernel_indicator_snapshot.id"),
            primary_key=True,
        ),
        sa.Column("unit_id", sa.Integer(), primary_key=True),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("code", sa.String(12), nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("path", sa.String(400), nullable=False),
        sa.Column("closed", sa.Boolean(), nullable=False),
    )
    op.create_index(
        "ix_kernel_indicator_snapshot_unit_parent",
        "kernel_indicator_snapshot_unit",
        ["snapshot_id", "parent_id"],
    )
    op.create_table(
        "kernel_indicator_value",
        sa.Column(
            "snapshot_id",
            sa.Integer(),
            sa.ForeignKey("kernel_indicator_snapshot.id"),
            primary_key=True,
        ),
        sa.Column("indicator", sa.String(120), primary_key=True),
        sa.Column("unit_id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(80), primary_key=True),
        sa.Column("label", sa.String(120), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("base", sa.Float(), nullable=True),
    )
    op.create_index(
        "ix_kernel_indicator_value_trend",
        "kernel_indicator_value",
        ["indicator", "unit_id", "key", "snapshot_id"],
    )
    op.create_table(
        "kernel_indicator_pin",
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("kernel_user.id"), primary_key=True),
        sa.Column("indicator", sa.String(120), primary_key=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("pinned_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("kernel_indicator_pin")
    op.drop_table("kernel_indicator_value")
    op.drop_table("kernel_indicator_snapshot_unit")
    op.drop_table("kernel_indicator_snapshot")
