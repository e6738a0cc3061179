"""interaction: an account's phone kept sealed, found by its keyed hash

Revision ID: interaction_0007
Revises: interaction_0006
Create Date: 2026-12-06

Accounts kept their phone in clear (issue 14 point 10). It is now sealed under the platform's
data key like the kernel's resident phones, with its keyed hash for sign-in and a masked copy
to show; the SMS codes keep the hash instead of the phone. Existing rows are sealed here, so
this revision runs under ``shequyun db upgrade`` with the site's ``data_key``; ``downgrade``
unseals them back with the same key.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from shequyun_sdk.migrations import sealer

revision = "interaction_0007"
down_revision = "interaction_0006"
branch_labels = None
depends_on = None

ACCOUNTS = sa.table(
    "interaction_account",
    sa.column("id", sa.Integer()),
    sa.column("phone", sa.String()),
    sa.column("phone_sealed", sa.Text()),
    sa.column("phone_hash", sa.String()),
    sa.column("phone_masked", sa.String()),
)
CODES = sa.table(
    "interaction_phone_code",
    sa.column("id", sa.Integer()),
    sa.column("phone", sa.String()),
    sa.column("phone_hash", sa.String()),
)


def _mask(phone: str) -> str:
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 8 else phone


def upgrade() -> None:
    bind = op.get_bind()
    # Read first and take the key before changing anything: without it nothing is altered.
    old = sa.table("interaction_account", sa.column("id"), sa.column("phone"))
    old_codes = sa.table("interaction_phone_code", sa.column("id"), sa.column("phone"))
    accounts = bind.execute(sa.select(old.c.id, old.c.phone)).all()
    codes = bind.execute(sa.select(old_codes.c.id, old_codes.c.phone)).all()
    seal = sealer() if accounts or codes else None

    with op.batch_alter_table("interaction_account") as batch:
        batch.add_column(sa.Column("phone_sealed", sa.Text(), nullable=True))
        batch.add_column(sa.Column("phone_hash", sa.String(64), nullable=True))
        batch.add_column(sa.Column("phone_masked", sa.String(20), nullable=True))
    with op.batch_alter_table("interaction_phone_code") as batch:
        batch.add_column(sa.Column("phone_hash", sa.String(64), nullable=True))
    if seal is not None:
        for row_id, phone in accounts:
            bind.execute(
                sa.update(ACCOUNTS)
                .where(ACCOUNTS.c.id == row_id)
                .values(
                    phone_sealed=seal.seal(phone),
                    phone_hash=seal.lookup_hash(phone),
                    phone_masked=_mask(phone),
                )
            )
        for row_id, phone in codes:
            bind.execute(
                sa.update(CODES)
                .where(CODES.c.id == row_id)
                .values(phone_hash=seal.lookup_hash(phone))
            )

    with op.batch_alter_table("interaction_account") as batch:
        batch.drop_index("ix_interaction_account_phone")
        batch.drop_column("phone")
        batch.alter_column("phone_sealed", existing_type=sa.Text(), nullable=False)
        batch.alter_column("phone_hash", existing_type=sa.String(64), nullable=False)
        batch.alter_column("phone_masked", existing_type=sa.String(20), nullable=False)
        batch.create_index("ix_interaction_account_phone_hash", ["phone_hash"], unique=True)
    with op.batch_alter_table("interaction_phone_code") as batch:
        batch.drop_index("ix_interaction_phone_code_phone_created")
        batch.drop_column("phone")
        batch.alter_column("phone_hash", existing_type=sa.String(64), nullable=False)
        batch.create_index("ix_interaction_phone_code_phone_created", ["phone_hash", "created_at"])


def downgrade() -> None:
    bind = op.get_bind()
    accounts = bind.execute(sa.select(ACCOUNTS.c.id, ACCOUNTS.c.phone_sealed)).all()
    seal = sealer() if accounts else None
    with op.batch_alter_table("interaction_account") as batch:
        batch.add_column(sa.Column("phone", sa.String(20), nullable=True))
    with op.batch_alter_table("interaction_phone_code") as batch:
        batch.add_column(sa.Column("phone", sa.String(20), nullable=True))

    phones: dict[str, str] = {}
    if seal is not None:
        for row_id, sealed in accounts:
            phone = seal.unseal(sealed)
            phones[seal.lookup_hash(phone)] = phone
            bind.execute(sa.update(ACCOUNTS).where(ACCOUNTS.c.id == row_id).values(phone=phone))
    # A code's phone is known again where an account still has it; the others were sent to a
    # phone no account holds any more and only counted towards that phone's limits.
    for row_id, phone_hash in bind.execute(sa.select(CODES.c.id, CODES.c.phone_hash)).all():
        bind.execute(
            sa.update(CODES).where(CODES.c.id == row_id).values(phone=phones.get(phone_hash, ""))
        )

    with op.batch_alter_table("interaction_phone_code") as batch:
        batch.drop_index("ix_interaction_phone_code_phone_created")
        batch.drop_column("phone_hash")
        batch.alter_column("phone", existing_type=sa.String(20), nullable=False)
        batch.create_index("ix_interaction_phone_code_phone_created", ["phone", "created_at"])
    with op.batch_alter_table("interaction_account") as batch:
        batch.drop_index("ix_interaction_account_phone_hash")
        batch.drop_column("phone_masked")
        batch.drop_column("phone_hash")
        batch.drop_column("phone_sealed")
        batch.alter_column("phone", existing_type=sa.String(20), nullable=False)
        batch.create_index("ix_interaction_account_phone", ["phone"], unique=True)
