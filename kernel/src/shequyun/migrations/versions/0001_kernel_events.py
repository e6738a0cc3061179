"""kernel: durable event outbox and per-subscriber deliveries

Revision ID: k0001_events
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "k0001_events"
down_revision = None
branch_labels = ("kernel",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kernel_event",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("type", sa.String(120), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_kernel_event_type", "kernel_event", ["type"])
    op.create_table(
        "kernel_event_delivery",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("event_id", sa.Integer(), sa.ForeignKey("kernel_event.id"), nullable=False),
        sa.Column("subscriber", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("event_id", "subscriber", name="uq_kernel_event_delivery"),
    )
    op.create_index(
        "ix_kernel_event_delivery_due", "kernel_event_delivery", ["status", "next_attempt_at"]
    )


def downgrade() -> None:
    op.drop_table("kernel_event_delivery")
    op.drop_table("kernel_event")
