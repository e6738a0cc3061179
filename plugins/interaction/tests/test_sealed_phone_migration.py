"""interaction_0007 seals the phones of accounts that signed up before it, with the site's data
key, and its downgrade unseals them again (issue 14 point 10)."""

from __future__ import annotations

import pytest
from alembic import command
from shequyun_sdk.migrations import SealerMissing
from sqlalchemy import inspect, text

ACCOUNT = (
    "INSERT INTO interaction_account (id, phone, password_hash, failed_logins, created_at,"
    " verified_via)"
    " VALUES (5, '13800005555', 'x', 0, '2026-01-01', 'identity')"
)
CODE = (
    "INSERT INTO interaction_phone_code (account_id, phone, purpose, code_hash, attempts,"
    " created_at, expires_at) VALUES (5, '13800005555', 'signup', 'h', 0, '2026-01-01',"
    " '2026-01-01')"
)


@pytest.fixture
def site(shequyun_kernel):
    """The test database taken back to interaction_0006 with one account and its SMS code, as
    an old site has it (on SQLite or PostgreSQL, whichever the suite runs on)."""
    engine = shequyun_kernel.engine
    config = shequyun_kernel.migrations.config(engine, sealer=shequyun_kernel.platform)
    _migrate(engine, config, "interaction_0006", command.downgrade)
    with engine.begin() as connection:
        connection.execute(text(ACCOUNT))
        connection.execute(text(CODE))
    yield engine, config
    with engine.begin() as connection:  # back to the head, as the harness handed it out
        connection.execute(text("DELETE FROM interaction_phone_code"))
        connection.execute(text("DELETE FROM interaction_account"))
    _migrate(engine, config, "interaction@head")


def _migrate(engine, config, to: str, how=command.upgrade) -> None:
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        how(config, to)


def test_existing_phones_are_sealed_and_unsealed_on_downgrade(site, shequyun_kernel):
    engine, config = site
    platform = shequyun_kernel.platform
    _migrate(engine, config, "interaction@head")
    with engine.connect() as connection:
        account = connection.execute(text("SELECT * FROM interaction_account")).one()
        code = connection.execute(text("SELECT * FROM interaction_phone_code")).one()
        columns = {c["name"] for c in inspect(connection).get_columns("interaction_account")}
    assert "phone" not in columns
    assert platform.unseal(account.phone_sealed) == "13800005555"
    assert account.phone_hash == code.phone_hash == platform.lookup_hash("13800005555")
    assert account.phone_masked == "138****5555"

    _migrate(engine, config, "interaction_0006", command.downgrade)
    with engine.connect() as connection:
        account = connection.execute(text("SELECT id, phone FROM interaction_account")).one()
        code = connection.execute(text("SELECT phone FROM interaction_phone_code")).one()
    assert tuple(account) == (5, "13800005555") and code.phone == "13800005555"


def test_without_the_data_key_the_migration_stops_and_names_the_command(site, shequyun_kernel):
    engine, _ = site
    keyless = shequyun_kernel.migrations.config(engine)
    with pytest.raises(SealerMissing, match="shequyun db upgrade"):
        _migrate(engine, keyless, "interaction@head")
