"""kernel: where each plugin is switched on (per org unit)

Revision ID: k0005_enablement
Revises: k0004_collection
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "k0005_enablement"
down_revision = "k0004_collection"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kernel_plugin_enablement",
        sa.Column("plugin", sa.String(40), primary_key=True),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("kernel_org_unit.id"), primary_key=True),
        sa.Column("unit_path", sa.String(400), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("changed_by", sa.Integer(), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("kernel_plugin_enablement")
