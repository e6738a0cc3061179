"""A token's lookup stays prepared: its read-only transaction ends with COMMIT on the
platform's engines (read_transactions.py), so PostgreSQL keeps the plan.

The lookup runs on a pooled DBAPI connection (identity/token_uses.py). Left to a plain pool,
its transaction ended with ROLLBACK, and on a ROLLBACK psycopg forgets (and deallocates) every
statement it prepared on that connection: the four-table lookup, run on most requests of a
committee's token, was parsed and planned again each time (~180 µs of the server's CPU instead
of ~20).
"""

from __future__ import annotations

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
