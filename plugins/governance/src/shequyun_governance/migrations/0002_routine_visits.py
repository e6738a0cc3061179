"""governance: a 日常走访 field-log category, first in the list

A visit logged in three taps from the workbench keeps the form's first category. Until now that
was 困难帮扶 (hardship support), so every routine doorstep visit was counted as hardship on the
民情 dashboards. Routine visits get their own category, listed first.

Revision ID: governance_0002
Revises: governance_0001
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "governance_0002"
down_revision = "governance_0001"
branch_labels = None
depends_on = None

LOG_CATEGORIES = [("visit", "日常走访")]

_category = sa.table(
    "governance_category",
    sa.column("kind", sa.String),
    sa.column("code", sa.String),
    sa.column("name", sa.String),
    sa.column("due_days", sa.Integer),
    sa.column("position", sa.Integer),
    sa.column("active", sa.Boolean),
)


def upgrade() -> None:
    exists = op.get_bind().execute(
        sa.select(sa.func.count())
        .select_from(_category)
        .where(_category.c.kind == "log", _category.c.code == "visit")
    )
    if exists.scalar_one():
        return  # an administrator added it by hand already
    op.bulk_insert(
        _category,
        [
            {"kind": "log", "code": c, "name": n, "due_days": 5, "position": -1, "active": True}
            for c, n in LOG_CATEGORIES
        ],
    )


def downgrade() -> None:
    op.execute(_category.delete().where(_category.c.kind == "log", _category.c.code == "visit"))
