"""``shequyun db upgrade`` hands plugins' migrations the site's data key, and checks it against
the database first: a migration that seals existing rows (interaction_0007 seals resident
accounts' phones) never seals them under another site's key."""

from __future__ import annotations

import subprocess

import pytest
from alembic import command
from sqlalchemy import inspect, text

from shequyun.residents.crypto import FieldCipher
from shequyun.residents.keycheck import check_data_key

from ..conftest import subprocess_env
from .servers import run

RIGHT = "the-data-key-of-this-site-0123456789"
interaction = pytest.importorskip("shequyun_interaction")


@pytest.fixture
def shequyun_plugins():
    return [interaction]


def test_db_upgrade_checks_the_key_before_a_migration_seals_anything(shequyun_kernel, tmp_path):
    """``shequyun db upgrade`` hands plugins' migrations the data key (interaction_0007 seals
    existing account phones with it), so it refuses another site's key before migrating."""
    engine = shequyun_kernel.engine
    config = shequyun_kernel.migrations.config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "interaction_0006")
        connection.execute(
            text(
                "INSERT INTO interaction_account (id, phone, password_hash, failed_logins,"
                " created_at, verified_via) VALUES (1, '13800007777', 'x', 0, '2026-01-01', '')"
            )
        )
    check_data_key(engine, FieldCipher(RIGHT), shequyun_kernel.settings)  # the site's canary
    engine.dispose()

    def upgrade(key: str) -> subprocess.CompletedProcess[str]:
        url = shequyun_kernel.settings.effective_database_url
        env = subprocess_env(
            tmp_path,
            SHEQUYUN_DATABASE_URL=url,
            SHEQUYUN_DATA_KEY=key,
            SHEQUYUN_PLUGINS_ALLOWED="interaction",
        )
        return run("db", "upgrade", env=env)

    refused = upgrade("another-site-s-key")
    assert refused.returncode == 1
    assert "data_key (SHEQUYUN_DATA_KEY) is not the key" in refused.stderr
    with engine.connect() as connection:
        columns = {c["name"] for c in inspect(connection).get_columns("interaction_account")}
    assert "phone" in columns and "phone_sealed" not in columns  # nothing sealed, nothing altered

    done = upgrade(RIGHT)
    assert done.returncode == 0, done.stderr
    with engine.connect() as connection:
        sealed = connection.execute(text("SELECT phone_sealed FROM interaction_account")).scalar()
        connection.execute(text("DELETE FROM interaction_account"))
        connection.commit()
    assert FieldCipher(RIGHT).decrypt(sealed) == "13800007777"
