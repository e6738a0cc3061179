"""A task's answers are compressed with lz4 on a PostgreSQL that has it (migration k0027): the
UPDATE that stores a large form's answers then costs the server some 40% less than with pglz.
SQLite compresses nothing, and the migration leaves it alone both ways."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import text

from .test_forms_and_submissions import open_campaign

NOTES = {
    "schema": {
        "type": "object",
        "properties": {"notes": {"type": "string", "maxLength": 20000}},
        "required": ["notes"],
        "additionalProperties": False,
    },
    "ui": {"fields": {"notes": {"label": "走访记录", "widget": "textarea"}}},
}


def _lz4_server(engine) -> bool:
    if engine.dialect.name != "postgresql":
        return False
    with engine.connect() as connection:
        return bool(
            connection.execute(
                text(
                    "SELECT 'lz4' = ANY(enumvals) FROM pg_settings "
                    "WHERE name = 'default_toast_compression'"
                )
            ).scalar()
        )


def _column_compression(engine) -> str:
    """``l`` for lz4, ``p`` for pglz, ``""`` for the server's default."""
    with engine.connect() as connection:
        return str(
            connection.execute(
                text(
                    "SELECT attcompression FROM pg_attribute "
                    "WHERE attrelid = 'kernel_task'::regclass AND attname = 'data'"
                )
            ).scalar_one()
        )


def test_a_submissions_answers_are_stored_with_lz4(
    shequyun_client, shequyun_actors, shequyun_kernel
):
    engine = shequyun_kernel.engine
    if not _lz4_server(engine):
        pytest.skip("needs a PostgreSQL built with lz4 (SHEQUYUN_TEST_DATABASE_URL)")
    assert _column_compression(engine) == "l"
    cadre = shequyun_actors.cadre("310104003001")
    open_campaign(shequyun_client, shequyun_actors.bureau(), NOTES, ["310104003000"])
    (task,) = shequyun_client.get("/api/v1/tasks", headers=cadre.auth).json()["items"]
    notes = "老人独居，子女每周探望一次，需要助餐和助医服务。" * 200  # ~14 KB, compressed
    sent = shequyun_client.post(
        f"/api/v1/tasks/{task['id']}/submit",
        headers=cadre.auth,
        json={"client_key": "lz4-notes-1", "data": {"notes": notes}},
    )
    assert sent.status_code == 201, sent.text
    with engine.connect() as connection:
        stored = connection.execute(
            text("SELECT pg_column_compression(data) FROM kernel_task WHERE id = :id"),
            {"id": task["id"]},
        ).scalar_one()
    assert stored == "lz4"
    read = shequyun_client.get(f"/api/v1/tasks/{task['id']}", headers=cadre.auth)
    assert read.json()["data"] == {"notes": notes}


def test_the_migration_goes_down_and_up_again(shequyun_kernel):
    engine = shequyun_kernel.engine
    lz4 = _lz4_server(engine)
    config = shequyun_kernel.migrations.config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "k0026_committee_ages_live")
    if lz4:
        assert _column_compression(engine) == ""  # the server's default again
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "heads")
    if lz4:
        assert _column_compression(engine) == "l"
    assert shequyun_kernel.migrations.pending(engine) == []
