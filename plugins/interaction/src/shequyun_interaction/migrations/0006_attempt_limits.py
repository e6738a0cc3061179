"""interaction: a committee's code counts its tries; verification limits move to the platform

Revision ID: interaction_0006
Revises: interaction_0005
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "interaction_0006"
down_revision = "interaction_0005"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    # A code tried three times with a wrong name stops working, whichever accounts tried.
    with op.batch_alter_table("interaction_code") as batch:
        batch.add_column(sa.Column("tries", sa.Integer(), nullable=False, server_default="0"))
    # Verification attempts are counted by the platform (Platform.count_attempt) now.
    with op.batch_alter_table("interaction_account") as batch:
        batch.drop_column("verify_window_start")
        batch.drop_column("verify_failures")


def downgrade() -> None:
    with op.batch_alter_table("interaction_account") as batch:
        batch.add_column(
            sa.Column("verify_failures", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("verify_window_start", TS, nullable=True))
    with op.batch_alter_table("interaction_code") as batch:
        batch.drop_column("tries")
