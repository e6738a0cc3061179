"""The pool pings a PostgreSQL connection before handing it out only when it may be gone
(shequyun/idle_pings.py): a connection used a moment ago goes straight to the next request,
one idle for longer or pooled before a dropped connection was seen is pinged and replaced if
the server dropped it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from shequyun.db import make_engine
from shequyun.direct import DirectStatement
from shequyun.identity.models import OrgUnit

COMMITTEE = "310115004001"  # 潍坊一村居委会 (shequyun_units)
FIND_UNIT = DirectStatement(
    select(OrgUnit.__table__.c.name).where(OrgUnit.__table__.c.code == COMMITTEE)  # type: ignore[attr-defined]
)


@pytest.fixture
def url(shequyun_kernel: Any, shequyun_units: Any) -> str:
    if shequyun_kernel.engine.dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL (SHEQUYUN_TEST_DATABASE_URL): SQLite has no server")
    return str(shequyun_kernel.engine.url.render_as_string(hide_password=False))


@pytest.fixture
def pings(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every ping any PostgreSQL engine's pool sends, by connection."""
    from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg

    sent: list[Any] = []
    ping = PGDialect_psycopg.do_ping

    def counted(self: Any, dbapi_connection: Any) -> bool:
        sent.append(dbapi_connection)
        return bool(ping(self, dbapi_connection))

    monkeypatch.setattr(PGDialect_psycopg, "do_ping", counted)
    return sent


@contextmanager
def engine_of(url: str, **kwargs: Any) -> Iterator[Engine]:
    engine = make_engine(url, max_overflow=0, **kwargs)
    try:
        yield engine
    finally:
        engine.dispose()


def backend(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def terminate(url: str, *pids: int) -> None:
    with engine_of(url, pool_size=1) as admin, admin.connect() as connection:
        for pid in pids:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        connection.commit()
    time.sleep(0.2)  # the server ends the backends as it gets to it


def test_a_connection_back_from_a_request_a_moment_ago_is_not_pinged(url, pings):
    with engine_of(url, pool_size=1) as engine:
        first = backend(engine)
        assert backend(engine) == backend(engine) == first  # the same pooled connection
    assert pings == []


def test_a_connection_idle_longer_is_pinged_and_replaced_if_the_server_dropped_it(url, pings):
    with engine_of(url, pool_size=1, ping_after_idle=0.1) as engine:
        first = backend(engine)
        time.sleep(0.2)
        assert backend(engine) == first
        assert len(pings) == 1  # pinged, alive

        terminate(url, first)
        time.sleep(0.2)
        assert backend(engine) != first  # pinged, found dropped, replaced: no error
        assert len(pings) == 2


def test_a_statement_that_meets_a_dropped_connection_fails_and_the_others_are_replaced(url, pings):
    """A server restart under load: the connections were all used a moment ago, so none is
    pinged; the first statement on a dead one fails (as one in flight does), and the pool
    pings every connection it held before that one before handing it out again."""
    with engine_of(url, pool_size=2) as engine:
        with engine.connect() as one, engine.connect() as two:  # both pooled, both used
            pids = [
                int(c.execute(text("SELECT pg_backend_pid()")).scalar_one()) for c in (one, two)
            ]
        terminate(url, *pids)

        with Session(engine) as session, pytest.raises(DBAPIError) as failed:
            FIND_UNIT.rows(session, {})
        assert failed.value.connection_invalidated
        assert pings == []

        with Session(engine) as session:  # the other dead one: pinged and replaced
            assert FIND_UNIT.rows(session, {}) == [("潍坊一村居委会",)]
        assert len(pings) == 1
        assert backend(engine) not in pids
