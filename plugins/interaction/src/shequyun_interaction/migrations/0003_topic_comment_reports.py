"""interaction: topic comments are reported and moderated like neighbours' posts

Revision ID: interaction_0003
Revises: interaction_0002
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "interaction_0003"
down_revision = "interaction_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing comments are visible and belong to their topic's committee.
    with op.batch_alter_table("interaction_topic_comment") as batch:
        batch.add_column(sa.Column("unit_id", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("status", sa.String(12), nullable=False, server_default="visible")
        )
        batch.add_column(sa.Column("hidden_reason", sa.String(16), nullable=True))
        batch.add_column(
            sa.Column("report_count", sa.Integer(), nullable=False, server_default="0")
        )
    op.execute(
        "UPDATE interaction_topic_comment SET unit_id = (SELECT t.unit_id FROM interaction_topic t"
        " WHERE t.id = interaction_topic_comment.topic_id)"
    )
    with op.batch_alter_table("interaction_topic_comment") as batch:
        batch.alter_column("unit_id", existing_type=sa.Integer(), nullable=False)
        batch.create_index("ix_interaction_topic_comment_unit_id", ["unit_id"])

    # "topic_comment" is longer than the 12 characters reports and decisions allowed.
    for table in ("interaction_report", "interaction_moderation"):
        with op.batch_alter_table(table) as batch:
            batch.alter_column(
                "target_type", existing_type=sa.String(12), type_=sa.String(20), nullable=False
            )


def downgrade() -> None:
    for table in ("interaction_report", "interaction_moderation"):
        with op.batch_alter_table(table) as batch:
            batch.alter_column(
                "target_type", existing_type=sa.String(20), type_=sa.String(12), nullable=False
            )
    with op.batch_alter_table("interaction_topic_comment") as batch:
        batch.drop_index("ix_interaction_topic_comment_unit_id")
        batch.drop_column("report_count")
        batch.drop_column("hidden_reason")
        batch.drop_column("status")
        batch.drop_column("unit_id")
