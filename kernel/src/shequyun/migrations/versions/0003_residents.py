"""residents: residents, households, addresses, tags, history and transfers

Revision ID: k0003_residents
Revises: k0002_identity
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "k0003_residents"
down_revision = "k0002_identity"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def _unit_fk() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column("unit_id", sa.Integer(), sa.ForeignKey("kernel_org_unit.id"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "kernel_address",
        sa.Column("id", sa.Integer(), primary_key=True),
        _unit_fk(),
        sa.Column("compound", sa.String(60), nullable=False),
        sa.Column("building", sa.String(20), nullable=False),
        sa.Column("entrance", sa.String(20), nullable=False),
        sa.Column("room", sa.String(20), nullable=False),
        sa.UniqueConstraint(
            "unit_id", "compound", "building", "entrance", "room", name="uq_kernel_address"
        ),
    )
    op.create_index("ix_kernel_address_unit_id", "kernel_address", ["unit_id"])
    op.create_table(
        "kernel_household",
        sa.Column("id", sa.Integer(), primary_key=True),
        _unit_fk(),
        sa.Column("address_id", sa.Integer(), sa.ForeignKey("kernel_address.id"), nullable=True),
        sa.Column("number", sa.String(40), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_index("ix_kernel_household_unit_id", "kernel_household", ["unit_id"])
    op.create_table(
        "kernel_resident",
        sa.Column("id", sa.Integer(), primary_key=True),
        _unit_fk(),
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("gender", sa.String(8), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("id_number_enc", sa.Text(), nullable=False),
        sa.Column("id_number_hash", sa.String(64), nullable=False),
        sa.Column("id_number_masked", sa.String(24), nullable=False),
        sa.Column("phone_enc", sa.Text(), nullable=True),
        sa.Column("phone_hash", sa.String(64), nullable=True),
        sa.Column("phone_masked", sa.String(24), nullable=True),
        sa.Column("registration", sa.String(12), nullable=False),
        sa.Column("address_id", sa.Integer(), sa.ForeignKey("kernel_address.id"), nullable=True),
        sa.Column(
            "household_id", sa.Integer(), sa.ForeignKey("kernel_household.id"), nullable=True
        ),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_index("ix_kernel_resident_unit_name", "kernel_resident", ["unit_id", "name"])
    # A committee's pages walk this index in id order: no sort, whatever the page number.
    op.create_index("ix_kernel_resident_unit_id", "kernel_resident", ["unit_id", "id"])
    op.create_index("ix_kernel_resident_unit_birth", "kernel_resident", ["unit_id", "birth_date"])
    op.create_index("ix_kernel_resident_id_hash", "kernel_resident", ["id_number_hash"])
    # One active record per ID number, whatever two concurrent writers do.
    op.create_index(
        "uq_kernel_resident_active_id",
        "kernel_resident",
        ["id_number_hash"],
        unique=True,
        postgresql_where=sa.text("status = 'active'"),
        sqlite_where=sa.text("status = 'active'"),
    )
    op.create_index("ix_kernel_resident_phone_hash", "kernel_resident", ["phone_hash"])
    op.create_table(
        "kernel_resident_tag",
        sa.Column(
            "resident_id", sa.Integer(), sa.ForeignKey("kernel_resident.id"), primary_key=True
        ),
        sa.Column("tag", sa.String(60), primary_key=True),
    )
    op.create_index("ix_kernel_resident_tag_tag", "kernel_resident_tag", ["tag"])
    op.create_table(
        "kernel_resident_change",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("resident_id", sa.Integer(), sa.ForeignKey("kernel_resident.id"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("actor_username", sa.String(64), nullable=True),
        sa.Column("grant_id", sa.Integer(), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("field", sa.String(80), nullable=False),
        sa.Column("old_value", sa.Text(), nullable=True),
        sa.Column("new_value", sa.Text(), nullable=True),
    )
    op.create_index(
        "ix_kernel_resident_change_resident", "kernel_resident_change", ["resident_id", "id"]
    )
    op.create_table(
        "kernel_resident_transfer",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("resident_id", sa.Integer(), sa.ForeignKey("kernel_resident.id"), nullable=False),
        sa.Column(
            "from_unit_id", sa.Integer(), sa.ForeignKey("kernel_org_unit.id"), nullable=False
        ),
        sa.Column("to_unit_id", sa.Integer(), sa.ForeignKey("kernel_org_unit.id"), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("at", TZ, nullable=False),
    )
    op.create_index(
        "ix_kernel_resident_transfer_resident_id", "kernel_resident_transfer", ["resident_id"]
    )
    op.create_index(
        "ix_kernel_resident_transfer_from_unit_id", "kernel_resident_transfer", ["from_unit_id"]
    )


def downgrade() -> None:
    for table in (
        "kernel_resident_transfer",
        "kernel_resident_change",
        "kernel_resident_tag",
        "kernel_resident",
        "kernel_household",
        "kernel_address",
    ):
        op.drop_table(table)
