"""A rolling upgrade: the new release's ``shequyun db upgrade`` runs while the old workers serve.
Until they are restarted, the database has revisions their code does not know; they keep
serving, ``/readyz`` stays 200 and lists those revisions, and an old worker that restarts meanwhile
starts (with a warning) instead of failing on an unknown revision.
"""

from __future__ import annotations

import logging

from sqlalchemy import text

from shequyun.kernel import Kernel

NEXT = "k9999_next_release"


def test_old_workers_keep_serving_a_database_a_newer_release_upgraded(
    shequyun_kernel, shequyun_client, caplog
):
    engine = shequyun_kernel.engine
    with engine.begin() as connection:
        ours = connection.execute(
            text("SELECT version_num FROM alembic_version WHERE version_num LIKE 'k0%'")
        ).scalar_one()
        # What the next release's migration leaves behind: the kernel's head moved on.
        connection.execute(
            text("UPDATE alembic_version SET version_num = :next WHERE version_num = :ours"),
            {"next": NEXT, "ours": ours},
        )
    try:
        ready = shequyun_client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json() == {"status": "ready", "database_newer": [NEXT]}

        restarted = Kernel(shequyun_kernel.settings, plugins=[], discover=False)
        with caplog.at_level(logging.WARNING, logger="shequyun.kernel"):
            restarted.start()
        restarted.close()
        assert f"migrations this release does not know ({NEXT})" in caplog.text
    finally:
        with engine.begin() as connection:
            connection.execute(
                text("UPDATE alembic_version SET version_num = :ours WHERE version_num = :next"),
                {"next": NEXT, "ours": ours},
            )
    assert shequyun_client.get("/readyz").json() == {"status": "ready"}
