"""A token's lookup ends its transaction with COMMIT, so PostgreSQL keeps the plan.

The lookup runs on a pooled DBAPI connection (identity/token_uses.py). Left to the pool, its
transaction ended with ROLLBACK, and on a ROLLBACK psycopg forgets (and deallocates) every
statement it prepared on that connection: the four-table lookup, run on most requests of a
committee's token, was parsed and planned again each time (~180 µs of the server's CPU instead
of ~20).
"""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine

from shequyun.identity.token_uses import TokenLookup


def test_the_lookup_is_prepared_once_and_kept_across_lookups(shequyun_kernel):
    if shequyun_kernel.engine.dialect.name != "postgresql":
        pytest.skip("prepared statements are psycopg's, on PostgreSQL")
    engine = create_engine(shequyun_kernel.engine.url, pool_size=1, max_overflow=0)
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
