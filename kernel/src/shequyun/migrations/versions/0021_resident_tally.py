"""kernel: resident tallies (active residents of every unit's subtree by month of birth and
gender, by tag, in all), so the top levels' pages read a few rows instead of every resident

Revision ID: k0021_resident_tally
Revises: k0020_quality_name_keys
Create Date: 2026-12-06
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "k0021_resident_tally"
down_revision = "k0020_quality_name_keys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kernel_resident_tally",
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("measure", sa.String(length=8), nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("unit_id", "measure", "key"),
    )
    state = op.create_table(
        "kernel_resident_tally_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tree_stamp", sa.Integer(), nullable=False),
        sa.Column("built_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_kernel_resident_birth",
        "kernel_resident",
        ["birth_date", "status", "gender", "unit_id"],
    )
    # With no residents yet the empty tallies are exact: start keeping them now. A database
    # that holds residents is counted by the residents.tally job (or `shequyun residents
    # tally`); until then the pages count live, as before.
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT count(*) FROM kernel_resident")).scalar() == 0:
        stamp = bind.execute(
            sa.text("SELECT max(id) FROM kernel_org_unit_change WHERE action = 'moved'")
        ).scalar()
        op.bulk_insert(state, [{"id": 1, "tree_stamp": stamp or 0, "built_at": datetime.now(UTC)}])


def downgrade() -> None:
    op.drop_index("ix_kernel_resident_birth", "kernel_resident")
    op.drop_table("kernel_resident_tally_state")
    op.drop_table("kernel_resident_tally")
