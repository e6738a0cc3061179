"""A token's lookup stays prepared and costs one round trip on PostgreSQL.

The lookup runs on a pooled DBAPI connection (identity/token_uses.py). Left to a plain pool,
its transaction ended with ROLLBACK, and on a ROLLBACK psycopg forgets (and deallocates) every
statement it prepared on that connection: the four-table lookup, run on most requests of a
committee's token, was parsed and planned again each time (~180 µs of the server's CPU instead
of ~20). It then ended with COMMIT (read_transactions.py); it now runs in autocommit, without
the ``BEGIN`` and ``COMMIT`` that were two round trips of the four a lookup made.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from shequyun.db import make_engine
from shequyun.identity.token_uses import TokenLookup


def test_the_lookup_is_prepared_once_and_kept_across_lookups(shequyun_kernel):
    if shequyun_kernel.engine.dialect.name != "postgresql":
        pytest.skip("prepared statements are psycopg's, on PostgreSQL")
    url = shequyun_kernel.engine.url.render_as_string(hide_password=False)
    engine = make_engine(url, pool_size=1, max_overflow=0)
    try:
        lookup = TokenLookup(engine)
        for _ in range(8):  # psycopg prepares a statement on its fifth run
            assert lookup.find("0" * 64) is None
        connection = engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute("SELECT statement FROM pg_prepared_statements")
            prepared = [row[0] for row in cursor.fetchall()]
            cursor.close()
        finally:
            connection.close()
        assert any("kernel_api_token" in statement for statement in prepared), prepared
    finally:
        engine.dispose()


def test_the_lookup_sends_no_begin_or_commit_and_leaves_autocommit_off(shequyun_kernel, tmp_path):
    if shequyun_kernel.engine.dialect.name != "postgresql":
        pytest.skip("autocommit is for PostgreSQL's round trips")
    from psycopg import pq

    url = shequyun_kernel.engine.url.render_as_string(hide_password=False)
    engine = make_engine(url, pool_size=1, max_overflow=0)
    trace = tmp_path / "libpq.trace"
    try:
        lookup = TokenLookup(engine)
        assert lookup.find("0" * 64) is None  # the pool's one connection is opened
        connection = engine.raw_connection()
        pgconn = connection.dbapi_connection.pgconn
        connection.close()
        with trace.open("w") as out:
            pgconn.trace(out.fileno())
            pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)
            try:
                for _ in range(3):
                    assert lookup.find("0" * 64) is None
            finally:
                pgconn.untrace()
        simple, extended = _messages(trace)
        # Each lookup: the statement itself, nothing else; no BEGIN, no COMMIT. The pool pings
        # (``;``) only a connection idle for 2 s or more (idle_pings.py): none here, unless the
        # machine stalled that long between two lookups.
        assert all(message == '";"' for message in simple), simple
        assert extended == 3
        connection = engine.raw_connection()
        try:
            assert connection.dbapi_connection.pgconn is pgconn
            assert connection.dbapi_connection.autocommit is False  # for the next borrower
        finally:
            connection.close()
    finally:
        engine.dispose()


def _messages(trace: Path) -> tuple[list[str], int]:
    """What the client sent, from libpq's trace: the simple-protocol queries (``F <length>
    Query "..."``) and the number of extended-protocol statements (one ``Sync`` each)."""
    simple, extended = [], 0
    for line in trace.read_text(errors="replace").splitlines():
        parts = line.split("\t")
        if len(parts) >= 3 and parts[0] == "F":
            if parts[2] == "Query":
                simple.append(parts[3].strip())
            elif parts[2] == "Sync":
                extended += 1
    return simple, extended
