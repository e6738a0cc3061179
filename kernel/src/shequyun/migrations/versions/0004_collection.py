"""collection: forms, versions, campaigns, tasks, task history and idempotency keys

Revision ID: k0004_collection
Revises: k0003_residents
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "k0004_collection"
down_revision = "k0003_residents"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "kernel_form",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("title", sa.String(120), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "owner_unit_id", sa.Integer(), sa.ForeignKey("kernel_org_unit.id"), nullable=False
        ),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_index("ix_kernel_form_owner_unit_id", "kernel_form", ["owner_unit_id"])
    op.create_table(
        "kernel_form_version",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("form_id", sa.Integer(), sa.ForeignKey("kernel_form.id"), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("schema", sa.JSON(), nullable=False),
        sa.Column("ui", sa.JSON(), nullable=False),
        sa.Column("columns", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("published_at", TZ, nullable=True),
        sa.UniqueConstraint("form_id", "number", name="uq_kernel_form_version"),
    )
    op.create_table(
        "kernel_campaign",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "form_version_id", sa.Integer(), sa.ForeignKey("kernel_form_version.id"), nullable=False
        ),
        sa.Column("title", sa.String(120), nullable=False),
        sa.Column("instructions", sa.Text(), nullable=False),
        sa.Column("mode", sa.String(12), nullable=False),
        sa.Column("roster_filter", sa.JSON(), nullable=False),
        sa.Column("writeback", sa.JSON(), nullable=False),
        sa.Column("publisher_user_id", sa.Integer(), nullable=True),
        sa.Column(
            "publisher_unit_id", sa.Integer(), sa.ForeignKey("kernel_org_unit.id"), nullable=False
        ),
        sa.Column("starts_at", TZ, nullable=False),
        sa.Column("deadline", TZ, nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_index(
        "ix_kernel_campaign_publisher_unit_id", "kernel_campaign", ["publisher_unit_id"]
    )
    op.create_table(
        "kernel_campaign_target",
        sa.Column(
            "campaign_id", sa.Integer(), sa.ForeignKey("kernel_campaign.id"), primary_key=True
        ),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("kernel_org_unit.id"), primary_key=True),
    )
    op.create_table(
        "kernel_task",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("campaign_id", sa.Integer(), sa.ForeignKey("kernel_campaign.id"), nullable=False),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("kernel_org_unit.id"), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=True),
        sa.Column("street_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("withdrawn", sa.Boolean(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("form_version_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("submitted_at", TZ, nullable=True),
        sa.Column("on_time", sa.Boolean(), nullable=True),
        sa.Column("updated_at", TZ, nullable=False),
        sa.UniqueConstraint("campaign_id", "unit_id", name="uq_kernel_task"),
    )
    op.create_index("ix_kernel_task_campaign_status", "kernel_task", ["campaign_id", "status"])
    op.create_index("ix_kernel_task_unit", "kernel_task", ["unit_id"])
    op.create_table(
        "kernel_task_event",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("task_id", sa.Integer(), sa.ForeignKey("kernel_task.id"), nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("actor_username", sa.String(64), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
    )
    op.create_index("ix_kernel_task_event_task", "kernel_task_event", ["task_id", "id"])
    op.create_table(
        "kernel_submission_key",
        sa.Column("task_id", sa.Integer(), sa.ForeignKey("kernel_task.id"), primary_key=True),
        sa.Column("client_key", sa.String(80), primary_key=True),
        sa.Column("task_version", sa.Integer(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "kernel_submission_key",
        "kernel_task_event",
        "kernel_task",
        "kernel_campaign_target",
        "kernel_campaign",
        "kernel_form_version",
        "kernel_form",
    ):
        op.drop_table(table)
