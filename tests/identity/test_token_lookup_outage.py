"""A token's lookup during a database outage is an outage (503), not a bug (500).

The lookup runs straight on a pooled DBAPI connection (identity/token_uses.py); psycopg's own
errors from there used to escape unwrapped, so the error middleware answered 500
``internal_error`` with a traceback while every other request said 503 (seen in the
PostgreSQL outage test under load).
"""

from __future__ import annotations

import socket

import pytest
from sqlalchemy import create_engine
from sqlalchemy.exc import DBAPIError

from shequyun.identity.token_uses import TokenLookup
from shequyun.outages import database_unavailable

pytest.importorskip("psycopg")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_refused_connection_is_reported_as_the_database_being_unavailable():
    engine = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/none")
    lookup = TokenLookup(engine)
    with pytest.raises(DBAPIError) as raised:
        lookup.find("0" * 64)
    assert database_unavailable(raised.value)
    engine.dispose()
