"""kernel: an account whose password an administrator without personal-data permissions set
waits for a second person to confirm its holder

Revision ID: k0019_personal_data_hold
Revises: k0018_credential_epoch
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "k0019_personal_data_hold"
down_revision = "k0018_credential_epoch"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing accounts are not held: nobody can tell now who chose their passwords.
    with op.batch_alter_table("kernel_user") as batch:
        batch.add_column(sa.Column("personal_data_hold", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("kernel_user") as batch:
        batch.drop_column("personal_data_hold")
