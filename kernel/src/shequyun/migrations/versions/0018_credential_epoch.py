"""kernel: the shared credential epoch, so every worker drops remembered credentials at once

Revision ID: k0018_credential_epoch
Revises: k0017_quality_rounds
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "k0018_credential_epoch"
down_revision = "k0017_quality_rounds"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "kernel_credential_epoch",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("epoch", sa.BigInteger(), nullable=False),
    )
    op.bulk_insert(table, [{"id": 1, "epoch": 0}])


def downgrade() -> None:
    op.drop_table("kernel_credential_epoch")
