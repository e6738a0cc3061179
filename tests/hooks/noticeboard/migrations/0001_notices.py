"""noticeboard: the notice table

Revision ID: noticeboard_0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "noticeboard_0001"
down_revision = None
branch_labels = ("noticeboard",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "noticeboard_notice",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("committee", sa.String(60), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("noticeboard_notice")
