"""kernel: an index on residents' households (a household's members, read on every update by
the data-quality subscriber and by household rules)

Revision ID: k0014_resident_household_index
Revises: k0013_key_canary
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "k0014_resident_household_index"
down_revision = "k0013_key_canary"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_kernel_resident_household", "kernel_resident", ["household_id"])


def downgrade() -> None:
    op.drop_index("ix_kernel_resident_household", "kernel_resident")
