"""kernel: an index that answers ``path LIKE '/1/17/%'`` on PostgreSQL in any collation

Every scoped query finds a subtree's units by the prefix of their path. PostgreSQL uses an
ordinary btree index for ``LIKE 'prefix%'`` only under the C collation; under any other
(C.UTF-8, en_US.UTF-8, zh_CN.UTF-8) it read all the city's 6,300 units for every scoped query
(about 17 ms under load). The pattern operator class compares bytes, so the prefix is a range
of this index whatever the database's collation. (On SQLite the same index is a plain one.)

Revision ID: k0023_org_unit_path_pattern
Revises: k0022_display_preference
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "k0023_org_unit_path_pattern"
down_revision = "k0022_display_preference"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_kernel_org_unit_path_pattern",
        "kernel_org_unit",
        ["path"],
        postgresql_ops={"path": "varchar_pattern_ops"},
    )


def downgrade() -> None:
    op.drop_index("ix_kernel_org_unit_path_pattern", table_name="kernel_org_unit")
