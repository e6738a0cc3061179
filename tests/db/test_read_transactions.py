"""Read-only work ends with COMMIT on PostgreSQL, so psycopg keeps what it prepared; anything
that wrote still rolls back (shequyun/read_transactions.py).

On a ROLLBACK psycopg forgets every statement it prepared on the connection. Every read of the
platform used to end so (a session closed without commit, a connection handed back to the
pool), and each read was planned afresh on every request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import text, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select
from starlette.requests import Request

from shequyun.db import make_engine
from shequyun.direct import DirectStatement
from shequyun.identity.models import OrgUnit
from shequyun.read_transactions import plain_read
from shequyun.sessions import in_session

COMMITTEE = "310115004001"  # 潍坊一村居委会 (shequyun_units)
FIND_UNIT = select(OrgUnit.name).where(OrgUnit.code == COMMITTEE)  # type: ignore[arg-type]


@pytest.fixture
def engine(shequyun_kernel: Any, shequyun_units: Any) -> Iterator[Engine]:
    """An engine of the platform's making on the test's database, holding one connection, so
    that every read below runs on the same server backend."""
    url = shequyun_kernel.engine.url.render_as_string(hide_password=False)
    engine = make_engine(url, pool_size=1, max_overflow=0)
    try:
        yield engine
    finally:
        engine.dispose()


def postgres_only(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("prepared statements are psycopg's, on PostgreSQL")


def read(engine: Engine, work: Callable[[Session], Any]) -> Any:
    """``work`` through :func:`in_session` without commit, as a page that only reads runs it."""
    kernel = SimpleNamespace(engine=engine, replicas=None)
    request = Request(
        {"type": "http", "app": SimpleNamespace(state=SimpleNamespace(kernel=kernel))}
    )
    # A loop of its own in a thread of its own: the test's thread may already run one (a
    # browser test before it on the same worker leaves Playwright's).
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, in_session(request, work)).result()


def prepared_statements(engine: Engine) -> list[str]:
    """What the server holds prepared for the engine's one connection."""
    with engine.connect() as connection:
        return list(
            connection.execute(text("SELECT statement FROM pg_prepared_statements")).scalars()
        )


def unit_name(engine: Engine) -> str:
    with engine.connect() as connection:
        return str(connection.execute(FIND_UNIT).scalar_one())


# -- reads keep their plans -----------------------------------------------------------------


def in_a_session(engine: Engine) -> None:
    assert read(engine, lambda session: session.execute(FIND_UNIT).scalar_one()) == "潍坊一村居委会"


def on_a_connection(engine: Engine) -> None:
    # As the resident list's API does: a plain connection, closed without commit.
    with engine.connect() as connection:
        connection.execute(FIND_UNIT).scalar_one()


def on_the_dbapi_connection(engine: Engine) -> None:
    # As the token lookup does: handed back to the pool, whose reset ends the transaction.
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute(
            "SELECT name FROM kernel_org_unit WHERE code = %(code)s", {"code": COMMITTEE}
        )
        cursor.close()
    finally:
        raw.close()


@pytest.mark.parametrize("reading", [in_a_session, on_a_connection, on_the_dbapi_connection])
def test_a_read_stays_prepared_across_requests(engine, reading):
    postgres_only(engine)
    for _ in range(8):  # psycopg prepares a statement on its sixth run on a connection
        reading(engine)
    assert any("kernel_org_unit" in statement for statement in prepared_statements(engine))


# -- anything that wrote rolls back ---------------------------------------------------------


def test_a_flushed_change_in_a_session_without_commit_never_persists(engine):
    def rename(session: Session) -> None:
        unit = session.exec(select(OrgUnit).where(OrgUnit.code == COMMITTEE)).one()  # type: ignore[call-overload,arg-type]
        unit.name = "改了没提交"
        session.add(unit)
        session.flush()
        session.execute(FIND_UNIT).scalar_one()  # a read after the write

    read(engine, rename)
    assert unit_name(engine) == "潍坊一村居委会"


def test_a_write_on_the_dbapi_connection_without_commit_never_persists(engine):
    """Statements run straight on the DBAPI connection (direct.py, the imports' COPY) bypass
    SQLAlchemy: the connection notes them itself."""
    rename = DirectStatement(
        update(OrgUnit).where(OrgUnit.code == COMMITTEE).values(name="直接改的")  # type: ignore[arg-type]
    )
    read(engine, lambda session: rename.run(session, {}))
    assert unit_name(engine) == "潍坊一村居委会"


def test_a_write_on_a_plain_connection_without_commit_never_persists(engine):
    with engine.connect() as connection:
        connection.execute(
            update(OrgUnit).where(OrgUnit.code == COMMITTEE).values(name="连接上改的")  # type: ignore[arg-type]
        )
    assert unit_name(engine) == "潍坊一村居委会"


def test_a_setting_changed_from_a_select_does_not_outlive_the_transaction(engine):
    """``set_config(..., false)`` lasts the session when committed, and the next request on the
    pooled connection would inherit it: such a SELECT is no plain read."""
    postgres_only(engine)
    read(
        engine,
        lambda session: session.execute(text("SELECT set_config('application_name', 'x', false)")),
    )
    with engine.connect() as connection:
        assert (
            connection.execute(text("SELECT current_setting('application_name')")).scalar() != "x"
        )


def test_a_failed_read_rolls_back_and_the_connection_serves_the_next_request(engine):
    def fail(session: Session) -> None:
        session.execute(text("SELECT * FROM no_such_table"))

    with pytest.raises(DBAPIError):
        read(engine, fail)
    assert unit_name(engine) == "潍坊一村居委会"


@pytest.mark.parametrize(
    ("sql", "reads"),
    [
        ("SELECT name FROM kernel_org_unit WHERE code = %(code)s", True),
        ("  select 1", True),
        ("(SELECT 1) UNION (SELECT 2)", True),
        ("WITH RECURSIVE up AS (SELECT 1) SELECT * FROM up", True),
        (";", True),  # the pool's ping
        ("SELECT updated_at, deleted_on FROM t", True),  # words are whole words
        ("INSERT INTO t VALUES (1)", False),
        ("WITH moved AS (UPDATE t SET a = 1 RETURNING id) SELECT * FROM moved", False),
        ("SELECT * FROM t FOR UPDATE", False),
        ("SELECT * FROM t FOR SHARE", False),
        ("SELECT * INTO copy FROM t", False),
        ("SELECT 1; DROP TABLE t", False),
        ("SELECT pg_notify('c', 'x')", False),
        ("SELECT set_config('a.b', 'x', false)", False),
        ("SELECT nextval('s')", False),
        ("SELECT pg_advisory_lock(1)", False),
        ("SHOW transaction isolation level", False),
        ("SET statement_timeout = 0", False),
        ("/* a comment first */ SELECT 1", False),  # in doubt: not a plain read
    ],
)
def test_what_counts_as_a_plain_read(sql, reads):
    assert plain_read(sql) is reads
