"""shequyun_sdk.migrations.sealer: a plugin's migration seals the rows already there with the
platform's data key, and Platform.seal / unseal / lookup_hash are the kernel's own sealing."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from shequyun_sdk import hookimpl
from shequyun_sdk.migrations import SealerMissing

from .hooks._plugins import manifest

PLAIN = """
import sqlalchemy as sa
from alembic import op

revision = "contacts_0001"
down_revision = None
branch_labels = ("contacts",)


def upgrade():
    op.create_table(
        "contacts_person",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("phone", sa.String(20), nullable=False),
    )


def downgrade():
    op.drop_table("contacts_person")
"""

SEALING = """
import sqlalchemy as sa
from alembic import op
from shequyun_sdk.migrations import sealer

revision = "contacts_0002"
down_revision = "contacts_0001"


def upgrade():
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, phone FROM contacts_person")).all()
    seal = sealer() if rows else None  # before any change: without the key, nothing changes
    op.add_column("contacts_person", sa.Column("phone_sealed", sa.Text()))
    op.add_column("contacts_person", sa.Column("phone_hash", sa.String(64)))
    if seal is not None:
        for row_id, phone in rows:
            bind.execute(
                sa.text("UPDATE contacts_person SET phone_sealed = :s, phone_hash = :h WHERE id = :i"),
                {"s": seal.seal(phone), "h": seal.lookup_hash(phone), "i": row_id},
            )


def downgrade():
    pass
"""


@pytest.fixture
def shequyun_plugins(tmp_path_factory):
    migrations = tmp_path_factory.mktemp("contacts_migrations")
    (migrations / "0001_plain.py").write_text(PLAIN)
    (migrations / "0002_sealed.py").write_text(SEALING)

    class Contacts:
        MANIFEST = manifest("contacts", "联系人")

        @hookimpl
        def register_migrations(self, plugin):
            return migrations

    return [Contacts()]


def _old_database(kernel, path: Path) -> sa.Engine:
    """A database at contacts_0001 holding one plain phone, as a site had it."""
    engine = sa.create_engine(f"sqlite:///{path}")
    config = kernel.migrations.config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "contacts_0001")
        connection.execute(sa.text("INSERT INTO contacts_person VALUES (1, '13800001111')"))
    return engine


def test_the_upgrade_seals_existing_rows_with_the_platforms_key(shequyun_kernel, tmp_path):
    engine = _old_database(shequyun_kernel, tmp_path / "site.db")
    try:
        shequyun_kernel.migrations.upgrade(engine, sealer=shequyun_kernel.platform)
        with engine.connect() as connection:
            row = connection.execute(sa.text("SELECT * FROM contacts_person")).one()
    finally:
        engine.dispose()
    platform = shequyun_kernel.platform
    assert platform.unseal(row.phone_sealed) == "13800001111"
    assert row.phone_hash == platform.lookup_hash("13800001111")


def test_an_upgrade_without_the_key_stops_before_sealing_and_says_how(shequyun_kernel, tmp_path):
    engine = _old_database(shequyun_kernel, tmp_path / "site.db")
    try:
        with pytest.raises(SealerMissing, match="shequyun db upgrade"):
            shequyun_kernel.migrations.upgrade(engine)
        with engine.connect() as connection:
            columns = {c["name"] for c in sa.inspect(connection).get_columns("contacts_person")}
    finally:
        engine.dispose()
    assert columns == {"id", "phone"}  # nothing half-done


def test_sealed_values_are_the_kernels_own(shequyun_kernel):
    platform = shequyun_kernel.platform
    first, second = platform.seal("13800001111"), platform.seal("13800001111")
    assert first != second  # a new nonce each time: equal phones do not look equal
    assert platform.unseal(first) == platform.unseal(second) == "13800001111"
    # the same keyed hash the resident database keeps beside its phones
    cipher = shequyun_kernel.residents.cipher
    assert platform.lookup_hash("13800001111") == cipher.lookup_hash("13800001111")
    assert "13800001111" not in first
