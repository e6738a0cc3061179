"""kernel: scheduled jobs, their due times, leases and last runs

Revision ID: k0007_scheduled_jobs
Revises: k0006_attachments
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "k0007_scheduled_jobs"
down_revision = "k0006_attachments"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kernel_scheduled_job",
        sa.Column("name", sa.String(120), primary_key=True),
        sa.Column("schedule", sa.String(40), nullable=False),
        sa.Column("next_due", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_owner", sa.String(40), nullable=True),
        sa.Column("last_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_outcome", sa.String(16), nullable=True),
        sa.Column("last_summary", sa.String(200), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("kernel_scheduled_job")
