"""Read replicas: read-only routes read from a PostgreSQL streaming replica, a person's own writes
are visible to them at once, and a replica that is down or lagging is skipped (``/readyz`` says
so) while the primary answers.

The tests with a real replica run when ``SHEQUYUN_TEST_REPLICA_URL`` names one (``.ci/standby``
starts it; the database name in the URL is replaced by the test's); they pause its replay to
make it lag, so they take turns through a file lock, whichever pytest worker runs them.
"""

from __future__ import annotations

import fcntl
import logging
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from itertools import count
from typing import Any

import psycopg
import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from starlette.testclient import TestClient

from shequyun.app import create_app
from shequyun.kernel import Kernel
from shequyun.replicas import Replicas
from shequyun.settings import SettingsError, load_settings

from ..residents._data import id_number, resident
from .servers import free_port

REPLICA_URL = os.environ.get("SHEQUYUN_TEST_REPLICA_URL")
#: A liveness bound for the replica to catch up or fall behind, not a timing test.
LIVENESS_SECONDS = 60
_births = count()


def test_replicas_need_postgresql_and_their_passwords_are_masked(tmp_path):
    with pytest.raises(SettingsError, match="database_replicas: read replicas need a PostgreSQL"):
        load_settings(
            environ={"SHEQUYUN_DATABASE_REPLICAS": "postgresql+psycopg://r1/db"},
            data_dir=tmp_path,
        )
    settings = load_settings(
        environ={
            "SHEQUYUN_DATABASE_URL": "postgresql+psycopg://app:hush9@db/shequyun",
            "SHEQUYUN_DATABASE_REPLICAS": "postgresql+psycopg://app:hush9@r1/shequyun,"
            "postgresql+psycopg://app:hush9@r2/shequyun",
        }
    )
    assert len(settings.database_replicas) == 2
    assert "hush9" not in repr(settings)
    assert settings.public_dict()["database_replicas"] == [
        "postgresql+psycopg://app:***@r1/shequyun",
        "postgresql+psycopg://app:***@r2/shequyun",
    ]


def test_a_workers_first_measure_of_a_replica_is_no_warning(caplog):
    """Every worker that started against a busy primary logged the WARNING ``replica replica1
    back in use`` a second later: its first check could not yet tell the lag. Only a replica
    that was really out and came back is worth a warning."""
    engine = create_engine("postgresql+psycopg://app:hush9@db-r1/shequyun")  # never connected
    replicas = Replicas(create_engine("postgresql+psycopg://app@db/shequyun"), [("r1", engine)])
    with caplog.at_level(logging.INFO, logger="shequyun.replicas"):
        replicas._set("r1", engine, None, "lag not known yet")
        replicas._set("r1", engine, 0.4, None)
        replicas._set("r1", engine, None, "unreachable: OperationalError: refused")
        replicas._set("r1", engine, 0.0, None)
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("INFO", "replica r1 in use (lag 0.4 s)"),
        ("WARNING", "replica r1 skipped: unreachable: OperationalError: refused"),
        ("WARNING", "replica r1 back in use (lag 0.0 s)"),
    ]


def postgres_only(kernel: Kernel) -> None:
    if kernel.engine.dialect.name != "postgresql":
        pytest.skip("read replicas are PostgreSQL's")


@contextmanager
def platform_with_replica(kernel: Kernel, replica_url: str, **settings: Any) -> Iterator[Kernel]:
    """Another kernel on the test's database, reading from ``replica_url``."""
    configured = kernel.settings.model_copy(
        update={"database_replicas": (replica_url,), "replica_check_every": 0.1, **settings}
    )
    other = Kernel(configured, plugins=[], discover=False)
    try:
        yield other
    finally:
        other.close()


def new_resident(client: TestClient, actor: Any) -> int:
    n = next(_births)
    person = resident(
        name=f"复制测试{n}",
        id_number=id_number(born=(date(1950, 1, 1) + timedelta(days=n)).strftime("%Y%m%d")),
        household_number=f"R-{n}",
        address={"compound": "潍坊一村", "building": str(n), "room": "101"},
    )
    answer = client.post("/api/v1/residents", json=person, headers=actor.auth)
    assert answer.status_code == 201, answer.text
    return int(answer.json()["id"])


def listed(client: TestClient, actor: Any) -> set[int]:
    answer = client.get("/api/v1/residents?limit=500", headers=actor.auth)
    assert answer.status_code == 200, answer.text
    return {item["id"] for item in answer.json()["items"]}


def wait_for(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + LIVENESS_SECONDS
    while not condition():
        assert time.monotonic() < deadline, "not within the liveness bound"
        time.sleep(0.1)


def test_a_replica_that_is_down_is_skipped_and_readyz_says_so(shequyun_kernel, shequyun_actors):
    postgres_only(shequyun_kernel)
    cadre = shequyun_actors.cadre()
    down = make_url(shequyun_kernel.settings.database_url).set(port=free_port())
    with (
        platform_with_replica(shequyun_kernel, down.render_as_string(False)) as kernel,
        TestClient(create_app(kernel=kernel)) as client,
    ):
        created = new_resident(client, cadre)
        reader = shequyun_actors.street_admin()
        assert created in listed(client, reader)  # the primary answered
        ready = client.get("/readyz")
    assert ready.status_code == 200  # this worker serves: the primary answers its reads
    assert ready.json()["status"] == "degraded"
    (replica,) = ready.json()["replicas"]
    assert replica["state"] == "skipped"
    assert replica["reason"].startswith("unreachable: OperationalError")
    assert str(down.port) in replica["url"]


# -- a real streaming replica ------------------------------------------------------------------

needs_replica = pytest.mark.skipif(
    not REPLICA_URL, reason="SHEQUYUN_TEST_REPLICA_URL names no replica (.ci/standby starts one)"
)


@pytest.fixture
def replica(shequyun_kernel) -> Iterator[str]:
    """The replica's URL for the test's database, once the replica has it; the replica is this
    test's alone (a lock) and replays again afterwards."""
    postgres_only(shequyun_kernel)
    assert REPLICA_URL is not None
    url = make_url(REPLICA_URL).set(database=shequyun_kernel.engine.url.database)
    plain = url.set(drivername="postgresql").render_as_string(False)
    lock_path = os.path.join(tempfile.gettempdir(), "shequyun-test-replica.lock")
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            wait_for(lambda: _connects(plain))  # the replica has replayed CREATE DATABASE
            yield url.render_as_string(False)
        finally:
            _replay(plain, pause=False)
            fcntl.flock(lock, fcntl.LOCK_UN)


def _connects(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


def _replay(url: str, *, pause: bool) -> None:
    with psycopg.connect(url, autocommit=True) as connection:
        call = "pg_wal_replay_pause" if pause else "pg_wal_replay_resume"
        connection.execute(f"SELECT {call}()")


def _plain(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(False)


def readyz(client: TestClient) -> dict[str, Any]:
    answer = client.get("/readyz")
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


@needs_replica
def test_reads_come_from_the_replica_but_a_writer_reads_their_own_writes(
    shequyun_kernel, shequyun_actors, replica
):
    cadre, reader = shequyun_actors.cadre(), shequyun_actors.street_admin()
    with (
        platform_with_replica(shequyun_kernel, replica, replica_max_lag=600) as kernel,
        platform_with_replica(shequyun_kernel, replica, replica_max_lag=600) as another,
        TestClient(app := create_app(kernel=kernel)) as client,
        TestClient(create_app(kernel=another)) as other_worker,
    ):
        elsewhere = TestClient(app)  # the reader's own browser or program: no cookie of the cadre's
        before = new_resident(client, cadre)
        wait_for(lambda: readyz(client)["status"] == "ready")
        wait_for(lambda: before in listed(elsewhere, reader))  # replayed
        _replay(_plain(replica), pause=True)

        written = new_resident(client, cadre)

        # The writer sees it at once (their reads are on the primary for a while) ...
        assert written in listed(client, cadre)
        # ... and so through another worker, which the cookie tells.
        other_worker.cookies = client.cookies
        assert written in listed(other_worker, cadre)
        # Someone else reads the replica, which has not replayed it yet.
        assert before in listed(elsewhere, reader)
        assert written not in listed(elsewhere, reader)
        progress = readyz(client)["replicas"][0]
        assert progress["state"] == "in_use" and progress["lag_seconds"] > 0

        _replay(_plain(replica), pause=False)
        wait_for(lambda: written in listed(elsewhere, reader))


@needs_replica
def test_a_replica_lagging_past_the_bound_is_skipped_until_it_catches_up(
    shequyun_kernel, shequyun_actors, replica
):
    cadre, reader = shequyun_actors.cadre(), shequyun_actors.street_admin()
    with (
        platform_with_replica(shequyun_kernel, replica, replica_max_lag=0.5) as kernel,
        TestClient(app := create_app(kernel=kernel)) as client,
    ):
        elsewhere = TestClient(app)
        wait_for(lambda: readyz(client)["status"] == "ready")
        _replay(_plain(replica), pause=True)
        written = new_resident(client, cadre)

        wait_for(lambda: readyz(client)["status"] == "degraded")
        (state,) = readyz(client)["replicas"]
        assert state["state"] == "skipped" and state["reason"].startswith("lagging")
        assert written in listed(elsewhere, reader)  # the primary answers

        _replay(_plain(replica), pause=False)
        wait_for(lambda: readyz(client)["status"] == "ready")
        assert written in listed(elsewhere, reader)  # the replica has it now
