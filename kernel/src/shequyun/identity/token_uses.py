"""API tokens on the hot path: finding a live token (:class:`TokenLookup`), and the batched
record of when each token was last used (see :class:`TokenUses` for why it is batched)."""

from __future__ import annotations

import functools
import threading
import time
from collections import namedtuple
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from ..direct import CompiledStatement, on_dbapi_connection
from ..idle_pings import connection_lost
from .models import ApiToken, Grant, OrgUnit, User

__all__ = ["TokenLookup", "TokenUses", "token_lookup"]


@functools.cache
def token_lookup() -> Any:
    """The statement that finds a live API token with what its actor needs of its grant, user
    and unit (``:key`` is the token's hash), built once: building it cost more than running
    it, and most requests of a committee token come here.

    Plain columns through Core rather than four ORM objects in a session: on a token's first
    request the lookup is the request's largest cost, and the objects were most of it."""
    token, grant = ApiToken.__table__, Grant.__table__  # type: ignore[attr-defined]
    user, unit = User.__table__, OrgUnit.__table__  # type: ignore[attr-defined]
    return (
        select(
            token.c.id.label("token_id"),
            token.c.expires_at,
            token.c.last_used_at,
            grant.c.id.label("grant_id"),
            grant.c.role,
            user.c.id.label("user_id"),
            user.c.username,
            user.c.display_name,
            user.c.personal_data_hold,
            unit.c.id.label("unit_id"),
            unit.c.code.label("unit_code"),
            unit.c.name.label("unit_name"),
            unit.c.level.label("unit_level"),
            unit.c.path.label("unit_path"),
            unit.c.closed_on.label("unit_closed_on"),
            unit.c.parent_id.label("unit_parent_id"),
        )
        .select_from(
            token.join(grant, grant.c.id == token.c.grant_id)
            .join(user, user.c.id == grant.c.user_id)
            .join(unit, unit.c.id == grant.c.unit_id)
        )
        .where(token.c.token_hash == bindparam("key"))
        .where(token.c.revoked_at.is_(None))
        .where(grant.c.revoked_at.is_(None))
        .where(user.c.is_active == True)  # noqa: E712 - SQL comparison
    )


class TokenLookup:
    """Runs :func:`token_lookup` for one engine straight on a pooled DBAPI connection, compiled
    once for the engine's dialect, its values converted as SQLAlchemy would
    (:class:`~shequyun.direct.CompiledStatement`; datetimes kept as text by SQLite, for one).

    A token's first request in a worker pays this lookup. Through ``Connection.execute`` some
    70% of its CPU time went to SQLAlchemy's own steps around the statement (its connection
    and transaction objects, the execution context, the result); the pool's checkout, its
    events and its reset on return stay as they were.

    On PostgreSQL the one statement runs in autocommit: in a transaction psycopg sends
    ``BEGIN`` before it and the pool's reset a ``COMMIT`` after it, each a round trip of its
    own, and a single ``SELECT`` reads the same outside one. The statements psycopg prepared
    stay prepared (only a ``ROLLBACK`` forgets them)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._compiled = CompiledStatement(token_lookup(), engine.dialect)
        columns = list(token_lookup().selected_columns)
        self.Row = namedtuple("TokenRow", [c.key for c in columns])  # type: ignore[misc]
        self._autocommit = engine.dialect.name == "postgresql"

    def find(self, key: str) -> Any | None:
        """The live token whose hash is ``key``, with its grant, user and unit, or None."""
        compiled, dialect = self._compiled, self.engine.dialect
        bound = compiled.parameters({"key": key})
        dbapi_error = dialect.loaded_dbapi.Error
        try:
            connection = self.engine.raw_connection()
        except dbapi_error as exc:  # refused: an outage, said as SQLAlchemy says it elsewhere
            raise DBAPIError.instance(compiled.sql, bound, exc, dbapi_error) from exc

        def lookup(cursor: Any) -> Any:
            cursor.execute(compiled.sql, bound)
            # Only a read, and on PostgreSQL in autocommit: no ROLLBACK, which would make
            # psycopg forget the four-table lookup it prepared (planned afresh then, ~180 us of
            # PostgreSQL's CPU instead of ~20; read_transactions.py).
            return cursor.fetchone()

        dbapi_connection: Any = connection.dbapi_connection
        switched = False
        try:
            if self._autocommit and not dbapi_connection.autocommit:
                # Checked out idle: the pool's reset ended any transaction.
                dbapi_connection.autocommit = True
                switched = True
            found = on_dbapi_connection(
                dialect, dbapi_connection, self._lost(connection), compiled, bound, lookup
            )
        finally:
            if switched and not dbapi_connection.closed:
                dbapi_connection.autocommit = False
            connection.close()
        return None if found is None else self.Row(*compiled.convert(found))

    def _lost(self, connection: Any) -> Callable[[BaseException], None]:
        def invalidate(exc: BaseException) -> None:
            connection.invalidate(exc)
            connection_lost(self.engine)

        return invalidate


class TokenUses:
    """API tokens' last use, written in one statement every ``seconds`` (10) instead of a
    transaction of its own on the first request of each token.

    With a token per committee, most requests are a token's first in a while: recording each
    use in its own commit cost more than the rest of the lookup. The uses wait here (the
    latest per token, noted at most once a minute per token, also when the token is answered
    from memory) until the epoch watcher's thread or a lookup finds the batch old enough, or
    the process stops (:meth:`flush`); a process killed outright loses at most that many
    seconds of them, which are informational (``last_used_at`` in the token list) and decide
    nothing."""

    def __init__(self, engine: Engine, seconds: float = 10.0) -> None:
        self.engine = engine
        self.seconds = seconds
        self._pending: dict[int, datetime] = {}
        self._since = time.monotonic()
        self._lock = threading.Lock()

    def note(self, token_id: int, when: datetime) -> None:
        """Note a use, to be written with the next batch (cheap: it may run on the event
        loop, for a token answered from memory)."""
        with self._lock:
            self._pending[token_id] = when

    def flush_if_due(self) -> None:
        """Write the noted uses if the batch is old enough (from a thread: it may write)."""
        with self._lock:
            due = bool(self._pending) and time.monotonic() - self._since >= self.seconds
        if due:
            self.flush()

    def flush(self) -> None:
        """Write every noted use now."""
        with self._lock:
            batch, self._pending = self._pending, {}
            self._since = time.monotonic()
        if not batch:
            return
        table = ApiToken.__table__  # type: ignore[attr-defined]
        statement = (
            update(table)
            .where(table.c.id == bindparam("token_id"))
            .values(last_used_at=bindparam("used_at"))
        )
        with self.engine.begin() as connection:
            connection.execute(
                statement, [{"token_id": k, "used_at": v} for k, v in sorted(batch.items())]
            )
