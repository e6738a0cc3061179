"""kernel: the folded keys of residents' names written another way (duplicates found on change)

Revision ID: k0020_quality_name_keys
Revises: k0019_personal_data_hold
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "k0020_quality_name_keys"
down_revision = "k0019_personal_data_hold"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kernel_quality_name_key",
        sa.Column(
            "resident_id", sa.Integer(), sa.ForeignKey("kernel_resident.id"), primary_key=True
        ),
        sa.Column("name_key", sa.String(100), nullable=False),
    )
    op.create_index("ix_kernel_quality_name_key_name_key", "kernel_quality_name_key", ["name_key"])
    # Existing records: the names streamed once, the few written another way kept. The daily
    # duplicate search rewrites the table too, so a database upgraded without this step heals.
    from shequyun.quality.names import name_key

    bind = op.get_bind()
    # Streamed (the option on the statement: on the connection it would outlive this step).
    names = sa.text("SELECT id, name FROM kernel_resident").execution_options(
        stream_results=True, yield_per=5000
    )
    odd = []
    for rid, name in bind.execute(names):
        key = name_key(name)
        if key != name:
            odd.append({"rid": rid, "key": key})
    if odd:
        bind.execute(
            sa.text(
                "INSERT INTO kernel_quality_name_key (resident_id, name_key) VALUES (:rid, :key)"
            ),
            odd,
        )


def downgrade() -> None:
    op.drop_index("ix_kernel_quality_name_key_name_key", "kernel_quality_name_key")
    op.drop_table("kernel_quality_name_key")
