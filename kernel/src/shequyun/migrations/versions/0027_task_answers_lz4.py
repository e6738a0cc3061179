"""kernel: a task's answers are compressed with lz4 on PostgreSQL

Every submission writes its answers (``kernel_task.data``, some 7 KB of JSON for a 250-field
form), and PostgreSQL compresses a value that large before storing it: with its default pglz
that was the largest part of the task's UPDATE. With lz4 the whole UPDATE takes about 40%
less of the server's time (docs/operations.md, "Task answers compressed with lz4", gives the
figures); lz4 compresses a little less, so such answers take some 35% more room. Only values
written from now on are lz4: those already stored stay as they are and read as before. A
server built without lz4 (it lists no ``lz4`` among ``default_toast_compression``'s values)
keeps pglz; SQLite compresses nothing.

Revision ID: k0027_task_answers_lz4
Revises: k0026_committee_ages_live
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text

revision = "k0027_task_answers_lz4"
down_revision = "k0026_committee_ages_live"
branch_labels = None
depends_on = None

#: Whether this server can compress with lz4 (PostgreSQL 14 or later, built ``--with-lz4``).
LZ4_AVAILABLE = text(
    "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
)


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql" or not bind.execute(LZ4_AVAILABLE).scalar():
        return
    op.execute("ALTER TABLE kernel_task ALTER COLUMN data SET COMPRESSION lz4")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql" or not bind.execute(LZ4_AVAILABLE).scalar():
        return
    op.execute("ALTER TABLE kernel_task ALTER COLUMN data SET COMPRESSION DEFAULT")
