"""kernel: the attachment store

Revision ID: k0006_attachments
Revises: k0005_enablement
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "k0006_attachments"
down_revision = "k0005_enablement"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kernel_attachment",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("uploaded_by", sa.Integer(), sa.ForeignKey("kernel_user.id"), nullable=True),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("kernel_org_unit.id"), nullable=True),
        sa.Column("owner", sa.String(40), nullable=True),
        sa.Column("owner_ref", sa.String(120), nullable=True),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("read_permissions", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_kernel_attachment_sha256", "kernel_attachment", ["sha256"])
    op.create_index("ix_kernel_attachment_owner", "kernel_attachment", ["owner", "owner_ref"])
    op.create_index("ix_kernel_attachment_unclaimed", "kernel_attachment", ["owner", "created_at"])


def downgrade() -> None:
    op.drop_table("kernel_attachment")
