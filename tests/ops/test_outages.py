"""Database outages: the API answers 503 (not 500) and recovers by itself, ``shequyun worker``
waits an outage out and keeps delivering, and each says so once, not once per try.

The PostgreSQL tests put a TCP proxy (:mod:`.proxy`) between the platform and the shared
server and cut it, or terminate the test database's connections; other tests' databases and the
server itself are never touched.
"""

from __future__ import annotations

import itertools
import logging
import sqlite3
import subprocess
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import psycopg
import pytest
from shequyun_sdk import hookimpl
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from shequyun.app import create_app
from shequyun.kernel import Kernel
from shequyun.outages import OutageWatch, database_unavailable

from ..conftest import SHEQUYUN, subprocess_env
from ..residents._data import id_number, resident
from . import probe_plugin
from .proxy import proxy_to

#: A liveness bound for a subprocess to do what it was asked, not a timing test.
LIVENESS_SECONDS = 120


def refused() -> OperationalError:
    return OperationalError(
        "SELECT 1", {}, psycopg.OperationalError("connection refused: is the server running?")
    )


def test_outages_are_told_from_faulty_statements():
    assert database_unavailable(refused())
    locked = OperationalError("UPDATE t", {}, sqlite3.OperationalError("database is locked"))
    assert database_unavailable(locked)
    missing = OperationalError("SELECT x", {}, sqlite3.OperationalError("no such table: x"))
    assert not database_unavailable(missing)
    assert not database_unavailable(ValueError("connection refused"))
    try:
        try:
            raise refused()
        except OperationalError as exc:
            raise RuntimeError("could not save the form") from exc
    except RuntimeError as wrapped:
        assert database_unavailable(wrapped)


def test_an_outage_is_logged_when_it_starts_and_when_it_ends_not_per_try(caplog):
    watch = OutageWatch(logging.getLogger("shequyun.test"), "event delivery", first=0.5, cap=4)
    with caplog.at_level(logging.INFO, logger="shequyun.test"):
        waits = [watch.failed(refused()) for _ in range(6)]
        watch.succeeded()
        watch.succeeded()
    assert waits == [0.5, 1, 2, 4, 4, 4]  # doubling, capped
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2, messages
    assert messages[0].startswith("event delivery: database unavailable (OperationalError: conn")
    assert messages[1].startswith("event delivery: database available again after")
    assert not any(r.exc_info for r in caplog.records)


def test_a_bug_in_a_loop_keeps_its_traceback_once_and_is_waited_out_too(caplog):
    watch = OutageWatch(logging.getLogger("shequyun.test"), "scheduled jobs")
    with caplog.at_level(logging.INFO, logger="shequyun.test"):
        first = watch.failed(KeyError("x"))
        second = watch.failed(KeyError("y"))
    assert second == 2 * first
    assert [r.exc_info is not None for r in caplog.records] == [True]


class Unavailable:
    """A plugin whose API route meets a database that refuses connections."""

    MANIFEST = {
        "name": "unavailable",
        "version": "0.1",
        "title": {"zh": "测试", "en": "Test"},
        "description": {"zh": "测试", "en": "Test"},
        "sdk": ">=0.1,<0.2",
    }

    @staticmethod
    @hookimpl
    def register_api_routes():
        async def save(request):
            raise refused()

        async def fine(request):
            return JSONResponse({"ok": True})

        return [Route("/save", save, methods=["POST"]), Route("/fine", fine)]


@pytest.fixture
def shequyun_plugins():
    return [Unavailable, probe_plugin]


def test_the_api_answers_503_with_retry_after_and_logs_one_line(
    shequyun_client, shequyun_actors, caplog
):
    admin = shequyun_actors.platform_admin()
    with caplog.at_level(logging.INFO):
        answer = shequyun_client.post("/api/v1/plugins/unavailable/save", headers=admin.auth)
        page = shequyun_client.post(
            "/api/v1/plugins/unavailable/save", headers={"Accept": "text/html"}
        )
    assert answer.status_code == 503, answer.text
    assert answer.headers["Retry-After"] == "5"
    assert answer.json()["error"]["code"] == "database_unavailable"
    assert "数据库" in answer.json()["error"]["message"]
    assert page.status_code == 503
    errors = [r for r in caplog.records if r.name == "shequyun.errors"]
    assert len(errors) == 2 and not any(r.exc_info for r in errors)
    assert "database unavailable on POST /api/v1/plugins/unavailable/save" in errors[0].getMessage()
    assert shequyun_client.get("/api/v1/plugins/unavailable/fine", headers=admin.auth).json() == {
        "ok": True
    }


# -- PostgreSQL --------------------------------------------------------------------------------


def postgres_only(kernel: Kernel) -> None:
    if kernel.engine.dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL (SHEQUYUN_TEST_DATABASE_URL): SQLite has no server to lose")


def terminate_connections(kernel: Kernel) -> int:
    """pg_terminate_backend every other connection to the test's own database."""
    with kernel.engine.connect() as connection:
        killed = connection.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND backend_type = 'client backend'"
            )
        ).scalar_one()
        connection.commit()
    return int(killed)


def test_api_under_load_answers_503_during_an_outage_and_recovers_without_restart(
    shequyun_kernel, shequyun_actors
):
    postgres_only(shequyun_kernel)
    cadre = shequyun_actors.cadre()
    url = shequyun_kernel.engine.url
    with proxy_to(url.host or "127.0.0.1", url.port or 5432) as proxy:
        settings = shequyun_kernel.settings.model_copy(
            update={"database_url": proxy.url(shequyun_kernel.settings.database_url)}
        )
        kernel = Kernel(settings, plugins=[], discover=False)
        with TestClient(create_app(kernel=kernel), raise_server_exceptions=False) as client:
            answers: list[tuple[int, dict, str | None]] = []
            stop = threading.Event()

            births = itertools.count()

            def load() -> None:
                while not stop.is_set():
                    n = next(births)
                    born = date(1940, 1, 1) + timedelta(days=n)  # a new person, a new household
                    person = resident(
                        id_number=id_number(born=born.strftime("%Y%m%d")),
                        household_number=f"H-{n}",
                        address={"compound": "潍坊一村", "building": str(n), "room": "101"},
                    )
                    reply = client.post("/api/v1/residents", json=person, headers=cadre.auth)
                    retry = reply.headers.get("Retry-After")
                    answers.append((reply.status_code, reply.json(), retry))
                    if retry:
                        time.sleep(0.05)  # as a client told to wait would, if less patiently

            threads = [threading.Thread(target=load) for _ in range(4)]
            for thread in threads:
                thread.start()
            try:
                _wait_for(lambda: sum(1 for a in answers if a[0] == 201) >= 10)
                terminate_connections(shequyun_kernel)
                _wait_for(lambda: sum(1 for a in answers if a[0] == 201) >= 20)
                proxy.cut()
                during = client.get("/api/v1/residents", headers=cadre.auth)
                time.sleep(1)  # under load while the database is away
                proxy.restore()
                _wait_for(lambda: answers[-1][0] == 201)
                terminate_connections(shequyun_kernel)
                _wait_for(lambda: sum(1 for a in answers[-40:] if a[0] == 201) >= 20)
            finally:
                stop.set()
                for thread in threads:
                    thread.join()
            after = client.get("/api/v1/residents", headers=cadre.auth)
        kernel.engine.dispose()

    assert during.status_code == 503, during.text
    assert during.json()["error"]["code"] == "database_unavailable"
    assert during.headers["Retry-After"] == "5"
    statuses = {status for status, _, _ in answers}
    assert statuses <= {201, 503}, [a for a in answers if a[0] not in (201, 503)][:3]
    unavailable = [a for a in answers if a[0] == 503]
    assert unavailable, "the load never met the outage"
    assert all(body["error"]["code"] == "database_unavailable" for _, body, _ in unavailable)
    assert all(retry == "5" for _, _, retry in unavailable)
    assert after.status_code == 200  # the same app, not restarted

    # Nothing half-written: every resident there is has its history and its event, and every
    # 201 is there (a 503 may have committed just before its connection died, never in part).
    created = {body["id"] for status, body, _ in answers if status == 201}
    with shequyun_kernel.engine.connect() as connection:
        residents = set(connection.execute(text("SELECT id FROM kernel_resident")).scalars())
        histories = set(
            connection.execute(
                text("SELECT DISTINCT resident_id FROM kernel_resident_change")
            ).scalars()
        )
        events = connection.execute(
            text("SELECT payload FROM kernel_event WHERE type = 'resident.created'")
        ).scalars()
        published = {payload["resident_id"] for payload in events}
    assert created <= residents
    assert len(residents) <= len(created) + len(unavailable)
    assert residents == histories == published


def test_the_worker_keeps_delivering_after_its_database_refused_it_for_10_seconds(
    shequyun_kernel, shequyun_client, tmp_path
):
    postgres_only(shequyun_kernel)  # the client started the kernel: it publishes to `probe`
    notes = tmp_path / "notes"
    notes.touch()
    url = shequyun_kernel.engine.url
    with proxy_to(url.host or "127.0.0.1", url.port or 5432) as proxy:
        env = subprocess_env(
            tmp_path,
            probe_plugin.install(tmp_path / "site"),
            Path(probe_plugin.__file__).parent,
            SHEQUYUN_DATABASE_URL=proxy.url(shequyun_kernel.settings.database_url),
            SHEQUYUN_PLUGINS_ALLOWED="probe",
            PROBE_NOTES=str(notes),
        )
        log = tmp_path / "worker.log"
        with log.open("w") as out:
            worker = subprocess.Popen(
                [SHEQUYUN, "worker", "--interval", "0.2"], env=env, stdout=out, stderr=out
            )
        try:
            first = publish_notes(shequyun_kernel, 3)
            _wait_for(lambda: noted(notes) >= set(first), worker, log)
            proxy.cut()
            during = publish_notes(shequyun_kernel, 3)  # straight to the server, not proxied
            time.sleep(10)
            assert worker.poll() is None, log.read_text()
            proxy.restore()
            _wait_for(lambda: noted(notes) >= set(first + during), worker, log)
            # The round that delivered them says so when it ends.
            _wait_for(lambda: "database available again" in log.read_text(), worker, log)
            assert worker.poll() is None, log.read_text()
        finally:
            worker.terminate()
            worker.wait(timeout=60)

    written = log.read_text()
    assert written.count("event delivery: database unavailable") == 1, written
    assert written.count("event delivery: database available again") == 1, written
    assert "Traceback" not in written, written
    assert sorted(noted(notes)) == sorted(first + during)


def publish_notes(kernel: Kernel, how_many: int) -> list[int]:
    with kernel.platform.session() as session:
        for _ in range(how_many):
            kernel.platform.publish(session, "probe.note", {})
    with kernel.engine.connect() as connection:
        ids = connection.execute(
            text("SELECT id FROM kernel_event WHERE type = 'probe.note' ORDER BY id DESC")
        ).scalars()
        return sorted(ids)[-how_many:]


def noted(notes: Path) -> set[int]:
    return {int(line) for line in notes.read_text().split()}


def _wait_for(condition, process=None, log: Path | None = None) -> None:
    deadline = time.monotonic() + LIVENESS_SECONDS
    while not condition():
        if process is not None and process.poll() is not None:
            raise AssertionError(log.read_text() if log else "process ended")
        assert time.monotonic() < deadline, f"not within {LIVENESS_SECONDS} s"
        time.sleep(0.1)


def test_a_metrics_scrape_during_an_outage_logs_lines_without_tracebacks(tmp_path, caplog):
    from sqlalchemy import create_engine

    from shequyun.metrics import exposition
    from shequyun.settings import load_settings

    settings = load_settings(environ={}, data_dir=tmp_path, inline_worker=False)
    gone = create_engine(f"sqlite:///{tmp_path / 'no-such-directory' / 'shequyun.db'}")
    kernel = Kernel(settings, discover=False, engine=gone)
    with caplog.at_level(logging.WARNING, logger="shequyun.metrics"):
        scraped = exposition(kernel)
    assert b"shequyun_http_request_duration_seconds" in scraped  # the process's own figures
    lines = [r for r in caplog.records if r.name == "shequyun.metrics"]
    assert lines
    for line in lines:
        assert line.getMessage().startswith("metrics: the database did not answer (Operational")
        assert not line.exc_info
