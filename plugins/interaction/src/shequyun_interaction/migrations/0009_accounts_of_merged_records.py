"""interaction: one resident may have two accounts (two records of one person merged)

When data quality merges two records of one person who had signed up twice (two phones), both
accounts now point at the kept record, so the person signs in with either and sees everything
they did. The unique index on ``interaction_account.resident_id`` becomes a plain one.

Revision ID: interaction_0009
Revises: interaction_0008
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "interaction_0009"
down_revision = "interaction_0008"
branch_labels = None
depends_on = None

INDEX = "ix_interaction_account_resident_id"


def upgrade() -> None:
    with op.batch_alter_table("interaction_account") as batch:
        batch.drop_index(INDEX)
        batch.create_index(INDEX, ["resident_id"], unique=False)


def downgrade() -> None:
    shared = (
        op.get_bind()
        .execute(
            sa.text(
                "SELECT resident_id FROM interaction_account WHERE resident_id IS NOT NULL "
                "GROUP BY resident_id HAVING count(*) > 1"
            )
        )
        .scalars()
        .all()
    )
    if shared:
        raise RuntimeError(
            f"{len(shared)} residents have two accounts after a merge (e.g. resident "
            f"{shared[0]}): undo those merges before downgrading below interaction_0009"
        )
    with op.batch_alter_table("interaction_account") as batch:
        batch.drop_index(INDEX)
        batch.create_index(INDEX, ["resident_id"], unique=True)
