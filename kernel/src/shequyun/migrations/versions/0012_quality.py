"""kernel: resident data quality (rules added in the portal, findings, waivers, scores)

Revision ID: k0012_quality
Revises: k0011_indicators
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "k0012_quality"
down_revision = "k0011_indicators"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_kernel_resident_person", "kernel_resident", ["name", "birth_date"])
    op.create_table(
        "kernel_quality_rule",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(60), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("kernel_org_unit.id"), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("check", sa.String(40), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("level", sa.String(8), nullable=False),
        sa.Column("title", sa.String(80), nullable=False),
        sa.Column("fix", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=True),
        sa.UniqueConstraint("code", "version", name="uq_kernel_quality_rule"),
    )
    op.create_table(
        "kernel_quality_rule_state",
        sa.Column("code", sa.String(60), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("evaluated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("findings", sa.Integer(), nullable=False),
    )
    op.create_table(
        "kernel_quality_finding",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("rule_code", sa.String(60), nullable=False),
        sa.Column("rule_version", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(8), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("group_key", sa.Integer(), nullable=True),
        sa.Column("found_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ix_kernel_quality_finding_unit", "kernel_quality_finding", ["unit_id", "level"]
    )
    op.create_index("ix_kernel_quality_finding_resident", "kernel_quality_finding", ["resident_id"])
    op.create_index(
        "ix_kernel_quality_finding_group", "kernel_quality_finding", ["rule_code", "group_key"]
    )
    op.create_table(
        "kernel_quality_waiver",
        sa.Column("rule_code", sa.String(60), primary_key=True),
        sa.Column(
            "resident_id", sa.Integer(), sa.ForeignKey("kernel_resident.id"), primary_key=True
        ),
        sa.Column("note", sa.String(200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("actor_username", sa.String(64), nullable=True),
    )
    op.create_table(
        "kernel_quality_confirmation",
        sa.Column(
            "resident_id", sa.Integer(), sa.ForeignKey("kernel_resident.id"), primary_key=True
        ),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("actor_username", sa.String(64), nullable=True),
    )
    op.create_table(
        "kernel_quality_score",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("kernel_org_unit.id"), primary_key=True),
        sa.Column("residents", sa.Integer(), nullable=False),
        sa.Column("incomplete", sa.Integer(), nullable=False),
        sa.Column("stale", sa.Integer(), nullable=False),
        sa.Column("with_errors", sa.Integer(), nullable=False),
        sa.Column("with_warnings", sa.Integer(), nullable=False),
        sa.Column("errors", sa.Integer(), nullable=False),
        sa.Column("warnings", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("kernel_quality_score")
    op.drop_table("kernel_quality_confirmation")
    op.drop_table("kernel_quality_waiver")
    op.drop_index("ix_kernel_quality_finding_group", "kernel_quality_finding")
    op.drop_index("ix_kernel_quality_finding_resident", "kernel_quality_finding")
    op.drop_index("ix_kernel_quality_finding_unit", "kernel_quality_finding")
    op.drop_table("kernel_quality_finding")
    op.drop_table("kernel_quality_rule_state")
    op.drop_table("kernel_quality_rule")
    op.drop_index("ix_kernel_resident_person", "kernel_resident")
