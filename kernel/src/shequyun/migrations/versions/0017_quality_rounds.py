"""kernel: data-quality verification rounds (核对), each a roster campaign

Revision ID: k0017_quality_rounds
Revises: k0016_quality_duplicates
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "k0017_quality_rounds"
down_revision = "k0016_quality_duplicates"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kernel_quality_round",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("kernel_org_unit.id"), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), sa.ForeignKey("kernel_campaign.id"), nullable=False),
        sa.Column("before", sa.JSON(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_by", sa.String(64), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("kernel_quality_round")
