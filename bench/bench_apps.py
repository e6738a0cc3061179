"""External apps: webhook deliveries/s from the outbox to three apps (see bench_apps_feed.py).

``webhooks``: N events published to the outbox, all about a 徐汇 committee. Subject: three
registered apps subscribe to them by webhook; the time runs from the first outbox delivery to
the last webhook answered (the sequencer numbering each event and fanning it out, then the
dispatcher signing and POSTing to three HTTP receivers on 127.0.0.1 that answer 204 at once).
Baseline: the same N events delivered by the outbox to three in-process plugin subscribers that
do nothing (what the outbox costs by itself). Both in deliveries/s (3 × N / seconds).

SQLite in a temporary directory. ``SHEQUYUN_BENCH_DATABASE_URL`` (a PostgreSQL server URL) runs
it on a temporary PostgreSQL database instead. ``_feed_pages`` serves bench_apps_feed.py.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

from _common import Figure, Result, reproduce
from sqlalchemy import create_engine, insert, text
from sqlalchemy.pool import NullPool

DATABASE_VARIABLE = "SHEQUYUN_BENCH_DATABASE_URL"
COMMITTEE = "310104003001"


class _Quiet(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(204)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        return


def _receiver() -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Quiet)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class _Database:
    """A fresh database: a SQLite file, or a temporary PostgreSQL database."""

    def __init__(self, workdir: Path) -> None:
        self.server = os.environ.get(DATABASE_VARIABLE)
        if self.server:
            self.name = f"bench_apps_{uuid.uuid4().hex[:8]}"
            self._admin(f'CREATE DATABASE "{self.name}"')
            self.url = self.server.rsplit("/", 1)[0] + f"/{self.name}"
        else:
            self.url = f"sqlite:///{workdir / f'{uuid.uuid4().hex[:8]}.db'}"

    def _admin(self, statement: str) -> None:
        assert self.server is not None
        engine = create_engine(self.server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        with engine.connect() as connection:
            connection.execute(text(statement))
        engine.dispose()

    def drop(self) -> None:
        if self.server:
            self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def _kernel(url: str, workdir: Path, plugins: list[Any] = ()) -> Any:  # type: ignore[assignment]
    from shequyun.kernel import Kernel
    from shequyun.settings import load_settings

    settings = load_settings(environ={}, data_dir=workdir, database_url=url, inline_worker=False)
    kernel = Kernel(settings, discover=False, plugins=list(plugins))
    kernel.upgrade_database()
    kernel.start()
    return kernel


def _publish(kernel: Any, count: int) -> None:
    with kernel.platform.session() as session:
        for n in range(count):
            kernel.events.publish(session, "bench.tick", {"unit_code": COMMITTEE, "n": n})


def _webhook_rate(workdir: Path, count: int) -> tuple[float, str]:
    from shequyun.testing import Actors, build_test_tree

    database = _Database(workdir)
    receivers = [_receiver() for _ in range(3)]
    kernel = _kernel(database.url, workdir)
    try:
        units = build_test_tree(kernel)
        made = Actors(kernel, None, units).platform_admin()
        actor = kernel.authenticator.actor_for(made.user, made.grant, made.unit, "token")
        with kernel.platform.session() as session:
            for index, server in enumerate(receivers):
                kernel.openness.apps.register(
                    session,
                    actor,
                    {
                        "slug": f"bench-{index}",
                        "name": f"bench {index}",
                        "base_url": "http://127.0.0.1/",
                        "webhook": {
                            "url": f"http://127.0.0.1:{server.server_address[1]}/hook",
                            "events": ["bench.*"],
                        },
                        "units": ["310104000000"],
                    },
                )
        _publish(kernel, count)
        began = time.perf_counter()
        kernel.events.drain()
        numbered = time.perf_counter() - began
        while kernel.openness.webhooks.deliver_due(limit=200):
            pass
        elapsed = time.perf_counter() - began
        with kernel.engine.connect() as connection:
            done = connection.execute(
                text("SELECT count(*) FROM kernel_webhook_delivery WHERE status = 'done'")
            ).scalar_one()
        assert done == 3 * count, f"{done} of {3 * count} webhooks delivered"
        return 3 * count / elapsed, f"numbering and fan-out {numbered:.1f} s of {elapsed:.1f} s"
    finally:
        kernel.close()
        for server in receivers:
            server.shutdown()
        database.drop()


def _outbox_rate(workdir: Path, count: int) -> float:
    from shequyun_sdk import Subscriber, hookimpl

    class Listeners:
        MANIFEST: ClassVar[dict[str, Any]] = {
            "name": "listeners",
            "version": "0.1.0",
            "title": {"zh": "监听", "en": "Listeners"},
            "description": {"zh": "基准", "en": "Benchmark"},
            "sdk": ">=0.1,<0.2",
        }

        @hookimpl
        def register_event_subscribers(self) -> list[Subscriber]:
            return [Subscriber("bench.*", lambda event: None, name=f"noop{i}") for i in range(3)]

    database = _Database(workdir)
    kernel = _kernel(database.url, workdir, [Listeners()])
    try:
        _publish(kernel, count)
        began = time.perf_counter()
        kernel.events.drain()
        return 3 * count / (time.perf_counter() - began)
    finally:
        kernel.close()
        database.drop()


def _feed_pages(workdir: Path, size: int, rounds: int) -> tuple[list[float], list[float]]:
    from shequyun.apps.models import FeedEntry
    from shequyun.events import OutboxEvent

    database = _Database(workdir)
    kernel = _kernel(database.url, workdir)
    try:
        now = datetime.now(UTC)
        districts = [f"/1/{d}/" for d in range(2, 18)]
        batch = 50_000
        with kernel.engine.begin() as connection:
            for start in range(1, size + 1, batch):
                ids = range(start, min(start + batch, size + 1))
                connection.execute(
                    insert(OutboxEvent.__table__),  # type: ignore[attr-defined]
                    [
                        {"id": i, "type": "bench.tick", "payload": {"n": i}, "created_at": now}
                        for i in ids
                    ],
                )
                connection.execute(
                    insert(FeedEntry.__table__),  # type: ignore[attr-defined]
                    [
                        {
                            "seq": i,
                            "event_id": i,
                            "type": "bench.tick",
                            "unit_path": f"{districts[i % 16]}{100 + i % 200}/",
                            "occurred_at": now,
                        }
                        for i in ids
                    ],
                )
        if kernel.engine.dialect.name == "postgresql":
            with kernel.engine.begin() as connection:
                connection.execute(text("ANALYZE kernel_feed_entry"))
                connection.execute(text("ANALYZE kernel_event"))
        from sqlmodel import Session

        feed = kernel.openness.feed
        cursor = size // 2
        district, city = [], []
        with Session(kernel.engine) as session:
            for _ in range(rounds):
                for paths, into in ((["/1/3/"], district), (["/1/"], city)):
                    began = time.perf_counter()
                    page = feed.page(session, paths, after=cursor, limit=100)
                    into.append((time.perf_counter() - began) * 1000)
                    assert len(page.items) == 100
        return district, city
    finally:
        kernel.close()
        database.drop()


def run(*, quick: bool = False) -> list[Result]:
    events = 100 if quick else 1000
    where = "PostgreSQL" if os.environ.get(DATABASE_VARIABLE) else "SQLite"
    with tempfile.TemporaryDirectory() as directory:
        workdir = Path(directory)
        outbox = _outbox_rate(workdir, events)
        webhooks, detail = _webhook_rate(workdir, events)
    return [
        Result(
            "webhooks",
            f"deliveries/s of {events} events to 3 subscribers ({where})",
            Figure("3 in-process subscribers", outbox, "deliveries/s", "the outbox alone"),
            Figure("3 webhook apps (HTTP)", webhooks, "deliveries/s", detail),
            reproduce("apps", quick=quick),
            ("signed, POSTed to 3 receivers on 127.0.0.1, each answering 204",),
        )
    ]


if __name__ == "__main__":
    for result in run(quick="--quick" in sys.argv):
        print(result.report())
