"""Behind PgBouncer in transaction mode (``database_pooler = "transaction"``): each transaction
may get another server connection, so psycopg must never prepare a statement, and nothing may
rely on session state. Runs when ``SHEQUYUN_TEST_POOLER_URL`` names a PgBouncer in front of the
test server (``.ci/standby`` starts one; the database name in the URL is replaced by the test's).
"""

from __future__ import annotations

import os
import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlmodel import Session, select
from starlette.testclient import TestClient

from shequyun.app import create_app
from shequyun.identity.auth import hash_token
from shequyun.identity.models import ApiToken
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


def test_tokens_are_found_and_revocations_followed_through_pgbouncer(
    pooled, shequyun_kernel, shequyun_actors
):
    """The token lookup runs on a pooled DBAPI connection, the credential changes are written
    and read through PgBouncer: no prepared statement, no session state."""
    auth = pooled.authenticator
    cadres = [shequyun_actors.cadre() for _ in range(3)]
    auth.epoch.check()
    for _ in range(4):  # psycopg would prepare the lookup after five runs
        auth.bearers.clear()
        for cadre in cadres:
            assert auth.from_bearer(cadre.token) is not None
    # Written through the pooler: the epoch's move and what the revocation touched.
    with Session(pooled.engine) as session:
        token = session.exec(select(ApiToken).where(ApiToken.grant_id == cadres[0].grant.id)).one()
        token.revoked_at = datetime.now(UTC)
        session.add(token)
        session.commit()
    with shequyun_kernel.engine.connect() as connection:
        touched = connection.execute(
            text("SELECT kind, subject FROM kernel_credential_change ORDER BY id DESC LIMIT 1")
        ).one()
    assert tuple(touched) == ("token", hash_token(cadres[0].token))
    # Read through the pooler: another process's change, as it writes it.
    with shequyun_kernel.engine.begin() as connection:
        epoch = connection.execute(
            text("UPDATE kernel_credential_epoch SET epoch = epoch + 1 RETURNING epoch")
        ).scalar_one()
        connection.execute(
            text(
                "INSERT INTO kernel_credential_change (epoch, kind, subject) VALUES (:e, 'token', :s)"
            ),
            {"e": epoch, "s": hash_token(cadres[1].token)},
        )
    assert auth.epoch.check()
    assert [auth.cached_bearer(c.token) is not None for c in cadres] == [False, False, True]
    assert auth.from_bearer(cadres[0].token) is None
