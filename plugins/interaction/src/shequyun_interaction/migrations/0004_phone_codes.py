"""interaction: SMS codes that prove an account holder controls the phone

Revision ID: interaction_0004
Revises: interaction_0003
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "interaction_0004"
down_revision = "interaction_0003"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    # Existing accounts have proven nothing: with phone_proof = "sms" the unverified ones are
    # asked for a code; verified ones keep their link.
    with op.batch_alter_table("interaction_account") as batch:
        batch.add_column(sa.Column("phone_confirmed_at", TS, nullable=True))
        batch.add_column(sa.Column("code_sent_at", TS, nullable=True))
    op.create_table(
        "interaction_phone_code",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(20), nullable=False),
        sa.Column("purpose", sa.String(12), nullable=False),
        sa.Column("code_hash", sa.String(200), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("used_at", TS, nullable=True),
    )
    op.create_index(
        "ix_interaction_phone_code_account_id", "interaction_phone_code", ["account_id"]
    )
    op.create_index(
        "ix_interaction_phone_code_phone_created",
        "interaction_phone_code",
        ["phone", "created_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_interaction_phone_code_phone_created", "interaction_phone_code")
    op.drop_index("ix_interaction_phone_code_account_id", "interaction_phone_code")
    op.drop_table("interaction_phone_code")
    with op.batch_alter_table("interaction_account") as batch:
        batch.drop_column("code_sent_at")
        batch.drop_column("phone_confirmed_at")
