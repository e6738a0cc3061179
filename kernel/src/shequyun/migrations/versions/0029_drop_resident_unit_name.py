"""kernel: drop the (unit_id, name) index that pinyin order left unused

Since k0028 every name order (the list's, and the resident picker's) sorts by the collation
``kernel_pinyin``, which the plain ``(unit_id, name)`` index cannot serve: PostgreSQL walks
``ix_kernel_resident_unit_pinyin`` instead, and SQLite sorts a committee's rows. The old index
was still written on every insert and every change of a name, which the import of a million
residents paid for (bench_residents: PostgreSQL's CPU per 50,000 rows rose by about a tenth with
the second index). Name search has its own index (k0024), duplicates theirs (name, birth_date).

Revision ID: k0029_drop_resident_unit_name
Revises: k0028_resident_name_pinyin
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "k0029_drop_resident_unit_name"
down_revision = "k0028_resident_name_pinyin"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_kernel_resident_unit_name")


def downgrade() -> None:
    op.create_index("ix_kernel_resident_unit_name", "kernel_resident", ["unit_id", "name"])
