"""interaction: files on announcements, disclosures and requests

Revision ID: interaction_0002
Revises: interaction_0001
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "interaction_0002"
down_revision = "interaction_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "interaction_attachment",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("target_type", sa.String(12), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("attachment_id", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint(
            "target_type",
            "target_id",
            "version",
            "attachment_id",
            name="uq_interaction_attachment",
        ),
    )
    op.create_index(
        "ix_interaction_attachment_target",
        "interaction_attachment",
        ["target_type", "target_id", "version"],
    )


def downgrade() -> None:
    op.drop_index("ix_interaction_attachment_target", table_name="interaction_attachment")
    op.drop_table("interaction_attachment")
