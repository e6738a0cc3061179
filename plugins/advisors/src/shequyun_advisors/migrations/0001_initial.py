"""advisors: policy versions, receipts, outreach cases, points, advisors, services, resources

Revision ID: advisors_0001
Revises:
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "advisors_0001"
down_revision = None
branch_labels = ("advisors",)
depends_on = None

TS = sa.DateTime(timezone=True)

TABLES = (
    "advisors_service",
    "advisors_resource",
    "advisors_receipt",
    "advisors_policy_version",
    "advisors_point",
    "advisors_case_event",
    "advisors_case",
    "advisors_advisor",
)


def upgrade() -> None:
    op.create_table(
        "advisors_advisor",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("point_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(40), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_advisors_advisor_point_id", "advisors_advisor", ["point_id"])
    op.create_index("ix_advisors_advisor_unit_id", "advisors_advisor", ["unit_id"])
    op.create_index("ix_advisors_advisor_user_id", "advisors_advisor", ["user_id"])

    op.create_table(
        "advisors_case",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("policy_id", sa.String(60), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reached", sa.Integer(), nullable=False),
        sa.Column("verdict", sa.String(24), nullable=False),
        sa.Column("assignee_user_id", sa.Integer(), nullable=True),
        sa.Column("assignee", sa.String(80), nullable=False),
        sa.Column("found_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("closed_at", TS, nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.UniqueConstraint("policy_id", "resident_id", name="uq_advisors_case"),
    )
    op.create_index("ix_advisors_case_assignee_user_id", "advisors_case", ["assignee_user_id"])
    op.create_index("ix_advisors_case_resident_id", "advisors_case", ["resident_id"])
    op.create_index(
        "ix_advisors_case_unit_policy", "advisors_case", ["unit_id", "policy_id", "status"]
    )

    op.create_table(
        "advisors_case_event",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("actor", sa.String(80), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("from_status", sa.String(16), nullable=False),
        sa.Column("to_status", sa.String(16), nullable=False),
        sa.Column("note", sa.String(400), nullable=False),
    )
    op.create_index("ix_advisors_case_event_case_id", "advisors_case_event", ["case_id"])

    op.create_table(
        "advisors_point",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(120), nullable=False),
        sa.Column("phone", sa.String(40), nullable=False),
        sa.Column("covers", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_advisors_point_unit_id", "advisors_point", ["unit_id"])

    op.create_table(
        "advisors_policy_version",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("policy_id", sa.String(60), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("unit_name", sa.String(80), nullable=False),
        sa.Column("retired", sa.Boolean(), nullable=False),
        sa.Column("note", sa.String(400), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("policy_id", "version", name="uq_advisors_policy_version"),
    )
    op.create_index(
        "ix_advisors_policy_version_policy_id", "advisors_policy_version", ["policy_id"]
    )
    op.create_index("ix_advisors_policy_version_unit_id", "advisors_policy_version", ["unit_id"])

    op.create_table(
        "advisors_receipt",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("policy_id", sa.String(60), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("since", sa.Date(), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        sa.Column("recorded_at", TS, nullable=False),
    )
    op.create_index(
        "ix_advisors_receipt_policy_resident", "advisors_receipt", ["policy_id", "resident_id"]
    )
    op.create_index("ix_advisors_receipt_resident_id", "advisors_receipt", ["resident_id"])

    op.create_table(
        "advisors_resource",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("sector", sa.String(12), nullable=False),
        sa.Column("services", sa.JSON(), nullable=False),
        sa.Column("needs", sa.JSON(), nullable=False),
        sa.Column("provider", sa.String(120), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("covers", sa.JSON(), nullable=False),
        sa.Column("contact", sa.String(80), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_advisors_resource_unit_id", "advisors_resource", ["unit_id"])

    op.create_table(
        "advisors_service",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("advisor_id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(12), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("policy_id", sa.String(60), nullable=True),
        sa.Column("resource_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_advisors_service_advisor_id", "advisors_service", ["advisor_id"])
    op.create_index("ix_advisors_service_resident_id", "advisors_service", ["resident_id"])
    op.create_index("ix_advisors_service_unit_month", "advisors_service", ["unit_id", "month"])


def downgrade() -> None:
    for table in TABLES:
        op.drop_table(table)
