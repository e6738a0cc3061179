"""Behind PgBouncer in transaction mode (``database_pooler = "transaction"``): each transaction
may get another server connection, so psycopg must never prepare a statement, and nothing may
rely on session state. Runs when ``SHEQUYUN_TEST_POOLER_URL`` names a PgBouncer in front of the
test server (``.ci/standby`` starts one; the database name in the URL is replaced by the test's).
"""

from __future__ import annotations

import os
import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from starlette.testclient import TestClient

from shequyun.app import create_app
from shequyun.kernel import Kernel

from ..residents._data import id_number, resident

POOLER_URL = os.environ.get("SHEQUYUN_TEST_POOLER_URL")

pytestmark = pytest.mark.skipif(
    not POOLER_URL, reason="SHEQUYUN_TEST_POOLER_URL names no PgBouncer (.ci/standby starts one)"
)


@pytest.fixture
def pooled(shequyun_kernel):
    """Another kernel on the test's database, reached through PgBouncer."""
    if shequyun_kernel.engine.dialect.name != "postgresql":
        pytest.skip("PgBouncer pools PostgreSQL connections")
    assert POOLER_URL is not None
    url = make_url(POOLER_URL).set(database=shequyun_kernel.engine.url.database)
    settings = shequyun_kernel.settings.model_copy(
        update={"database_url": url.render_as_string(False), "database_pooler": "transaction"}
    )
    kernel = Kernel(settings, plugins=[], discover=False)
    try:
        yield kernel
    finally:
        kernel.close()


def test_the_platform_works_through_pgbouncer_in_transaction_mode(pooled, shequyun_actors):
    with pooled.engine.connect() as connection:
        assert connection.connection.driver_connection.prepare_threshold is None
        assert connection.execute(text("SHOW port")).scalar() == "5432"  # the server behind
    cadre, reader = shequyun_actors.cadre(), shequyun_actors.street_admin()
    created: list[int] = []
    failures: list[str] = []

    with TestClient(create_app(kernel=pooled)) as client:

        def register(first: int) -> None:
            # The same statements many times over, from several threads: psycopg would
            # prepare them after five runs, and PgBouncer hands out other server connections.
            for n in range(first, first + 8):
                born = (date(1950, 1, 1) + timedelta(days=n)).strftime("%Y%m%d")
                person = resident(
                    name=f"池化{n}",
                    id_number=id_number(born=born),
                    household_number=f"P-{n}",
                    address={"compound": "潍坊一村", "building": str(n), "room": "101"},
                )
                answer = client.post("/api/v1/residents", json=person, headers=cadre.auth)
                if answer.status_code != 201:
                    failures.append(answer.text)
                    continue
                created.append(answer.json()["id"])
                shown = client.get(f"/api/v1/residents/{created[-1]}", headers=cadre.auth)
                if shown.status_code != 200:
                    failures.append(shown.text)

        threads = [threading.Thread(target=register, args=(i * 100,)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        listed = client.get("/api/v1/residents?limit=500", headers=reader.auth)
        ready = client.get("/readyz")

    assert failures == []
    assert len(created) == 32
    assert {item["id"] for item in listed.json()["items"]} >= set(created)
    assert ready.json() == {"status": "ready"}
