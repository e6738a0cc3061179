"""kernel: residents listed by name come in pinyin order on PostgreSQL

A list sorted by name (the API's ``sort=name``, the portal's 姓名 order) compared code points,
so 张 came before 王 before 李, not in the 按姓氏拼音 order a cadre reads a roll in. The kernel
orders names by the collation ``kernel_pinyin`` (``collation.py``), which this migration
creates from ICU's ``zh-Hans-x-icu``, or from ``"C"`` (code point order, as before) on a server
built without ICU, which lists no such collation in ``pg_collation``. ``kernel_pinyin`` is
ours, so a query names one collation whichever it is, and a server given ICU later can take it
by recreating both (docs/api/residents.md, "Names in pinyin order").

The index ``(unit_id, name COLLATE kernel_pinyin, id)`` is the order of a committee's page and
its cursor, so each such page is a walk of the index, not a sort of the committee. Building it
reads the whole resident table and blocks writes to it meanwhile; a large database can build it
beforehand with the same definition and ``CREATE INDEX CONCURRENTLY`` (after creating the
collation as below): this migration then finds both and leaves them. SQLite registers the
collation on each connection (its order is GB2312's, see collation.py) and has no such index.

Revision ID: k0028_resident_name_pinyin
Revises: k0027_task_answers_lz4
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text

revision = "k0028_resident_name_pinyin"
down_revision = "k0027_task_answers_lz4"
branch_labels = None
depends_on = None

#: Whether this server has ICU's simplified Chinese collation (built ``--with-icu``).
ICU_AVAILABLE = text("SELECT count(*) > 0 FROM pg_collation WHERE collname = 'zh-Hans-x-icu'")
INDEX = (
    "ix_kernel_resident_unit_pinyin ON kernel_resident (unit_id, name COLLATE kernel_pinyin, id)"
)


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    source = '"zh-Hans-x-icu"' if bind.execute(ICU_AVAILABLE).scalar() else '"C"'
    op.execute(f"CREATE COLLATION IF NOT EXISTS kernel_pinyin FROM {source}")
    op.execute(f"CREATE INDEX IF NOT EXISTS {INDEX}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_kernel_resident_unit_pinyin")
    op.execute("DROP COLLATION IF EXISTS kernel_pinyin")
