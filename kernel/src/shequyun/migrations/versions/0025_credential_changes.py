"""kernel: what each credential change touched, so workers forget only that

With only the shared epoch, any credential change anywhere (a logout, one committee's revoked
token) made every worker forget every credential it remembered, so the memory could last only
seconds and a committee's rare request nearly always paid the token's full lookup. Each change
now also writes what it touched (a token, a session, a user, a unit, an app) under the epoch
it moved to, and the workers forget only those.

Revision ID: k0025_credential_changes
Revises: k0024_resident_name_grams
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "k0025_credential_changes"
down_revision = "k0024_resident_name_grams"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kernel_credential_change",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("epoch", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
    )
    op.create_index("ix_kernel_credential_change_epoch", "kernel_credential_change", ["epoch"])


def downgrade() -> None:
    op.drop_index("ix_kernel_credential_change_epoch", table_name="kernel_credential_change")
    op.drop_table("kernel_credential_change")
