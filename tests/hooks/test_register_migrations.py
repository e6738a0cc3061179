"""register_migrations: the directory of the plugin's Alembic revisions, its own branch."""

from __future__ import annotations

import pytest
import sqlalchemy
from shequyun_sdk import hookimpl

from ._plugins import MIGRATIONS, manifest, plugin_listing


class Noticeboard:
    MANIFEST = manifest("noticeboard", "社区公告")

    @hookimpl
    def register_migrations(self, plugin):
        return MIGRATIONS


class FileNotDirectory:
    MANIFEST = manifest("deliberation", "议事厅")

    @hookimpl
    def register_migrations(self, plugin):
        return str(MIGRATIONS / "0001_notices.py")


class BrokenMigrations:
    MANIFEST = manifest("parking", "停车管理")

    @hookimpl
    def register_migrations(self, plugin):
        raise FileNotFoundError("parking/migrations")


@pytest.fixture
def shequyun_plugins():
    return [Noticeboard(), FileNotDirectory(), BrokenMigrations()]


def test_the_plugin_tables_exist_once_the_harness_migrated(shequyun_kernel):
    inspector = sqlalchemy.inspect(shequyun_kernel.engine)
    assert inspector.has_table("noticeboard_notice")
    columns = {column["name"] for column in inspector.get_columns("noticeboard_notice")}
    assert columns == {"id", "committee", "title", "created_at"}


def test_the_database_is_ready_with_the_plugin_branch_applied(shequyun_client):
    assert shequyun_client.get("/readyz").json() == {"status": "ready"}


def test_a_path_that_is_not_a_directory_fails_the_plugin(shequyun_client):
    deliberation = plugin_listing(shequyun_client)["deliberation"]
    assert deliberation["state"] == "failed"
    assert "register_migrations returned" in deliberation["reason"]
    assert "which is not a directory" in deliberation["reason"]


def test_a_raising_register_migrations_fails_the_plugin(shequyun_client):
    parking = plugin_listing(shequyun_client)["parking"]
    assert parking["state"] == "failed"
    assert "hook register_migrations raised FileNotFoundError" in parking["reason"]
    assert plugin_listing(shequyun_client)["noticeboard"]["state"] == "active"
