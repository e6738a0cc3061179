"""Core statements run straight on a session's DBAPI connection, for the hottest writes.

A statement that is already built still costs SQLAlchemy several steps per execution (its
connection and execution-context objects, the compiled cache's key, the parameters'
processing, the result's setup): on a submission of a 250-field form those steps were more
than a tenth of the worker's CPU, spread over half a dozen short statements. A
:class:`DirectStatement` compiles its statement once per dialect and then does only what
SQLAlchemy would do to the values: its bind processors on the way in, its result processors on
the way out. It runs on the DBAPI connection of ``session.connection()``, so in the session's
transaction; a database error is raised as SQLAlchemy raises it (an ``IntegrityError`` for a
taken key), and a connection the server dropped is invalidated as SQLAlchemy would (with the
connections pooled before it pinged before their next use: :mod:`.idle_pings`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from threading import Lock
from typing import Any, cast

from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlmodel import Session

from .idle_pings import connection_lost

__all__ = ["CompiledStatement", "DirectStatement", "on_dbapi_connection"]


class CompiledStatement:
    """``statement`` compiled for one dialect, with what SQLAlchemy would do to its values:
    :meth:`parameters` for the DBAPI's ``execute``, :meth:`convert` for a row it returns."""

    def __init__(self, statement: ClauseElement, dialect: Dialect) -> None:
        compiled = cast(SQLCompiler, statement.compile(dialect=dialect))
        self.sql = compiled.string
        #: The parameters each run must give (an ``INSERT`` without ``values()`` names every
        #: column: its key too, which must not silently be NULL).
        self.required = frozenset(n for n, bind in compiled.binds.items() if bind.required)
        #: The values the statement carries itself (its literals), by parameter name.
        self.defaults: dict[str, Any] = {
            name: value
            for name, value in compiled.construct_params(dict.fromkeys(self.required)).items()
            if name not in self.required
        }
        self.order = compiled.positiontup if compiled.positional else None
        self.bind: list[tuple[str, Callable[[Any], Any]]] = [
            (name, processor)
            for name, bind in compiled.binds.items()
            if (processor := bind.type.dialect_impl(dialect).bind_processor(dialect)) is not None
        ]
        # What a SELECT selects, what an INSERT or UPDATE returns (none for the others).
        columns: Any = getattr(statement, "exported_columns", ())
        self.result: list[tuple[int, Callable[[Any], Any]]] = [
            (i, processor)
            for i, column in enumerate(columns)
            if (processor := column.type.dialect_impl(dialect).result_processor(dialect, None))
            is not None
        ]

    def parameters(self, values: Mapping[str, Any]) -> Any:
        if not self.required.issubset(values):
            missing = ", ".join(sorted(self.required.difference(values)))
            raise TypeError(f"no value for the parameters {missing} of {self.sql!r}")
        params = {**self.defaults, **values}
        for name, processor in self.bind:
            params[name] = processor(params[name])
        return params if self.order is None else [params[n] for n in self.order]

    def convert(self, row: Sequence[Any]) -> tuple[Any, ...]:
        """A row as SQLAlchemy would return it (its result processors applied)."""
        if not self.result:
            return tuple(row)
        converted = list(row)
        for i, processor in self.result:
            converted[i] = processor(converted[i])
        return tuple(converted)


class DirectStatement:
    """``statement`` (a Core statement without expanding parameters), compiled once per
    dialect and run on a session's DBAPI connection."""

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._compiled: dict[str, CompiledStatement] = {}
        self._lock = Lock()

    def _for(self, dialect: Dialect) -> CompiledStatement:
        key = f"{dialect.name}:{dialect.paramstyle}"
        found = self._compiled.get(key)
        if found is None:
            with self._lock:
                found = self._compiled.setdefault(key, CompiledStatement(self.statement, dialect))
        return found

    def rows(self, session: Session, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Run with ``values`` and return the rows it returns (columns converted as
        SQLAlchemy would)."""
        rows: list[tuple[Any, ...]] = self._run(session, values, fetch=True)
        return rows

    def run(self, session: Session, values: Mapping[str, Any]) -> int:
        """Run with ``values``; the number of rows it changed."""
        return self._run(session, values, fetch=False)  # type: ignore[no-any-return]

    def run_many(self, session: Session, values: Sequence[Mapping[str, Any]]) -> None:
        """Run once per item of ``values`` (the DBAPI's ``executemany``)."""
        connection = session.connection()
        compiled = self._for(connection.dialect)
        bound = [compiled.parameters(v) for v in values]
        self._call(connection, compiled, bound, lambda c: c.executemany(compiled.sql, bound))

    def _run(self, session: Session, values: Mapping[str, Any], *, fetch: bool) -> Any:
        connection = session.connection()
        compiled = self._for(connection.dialect)
        bound = compiled.parameters(values)

        def execute(cursor: Any) -> Any:
            cursor.execute(compiled.sql, bound)
            if not fetch:
                return cursor.rowcount
            return [compiled.convert(row) for row in cursor.fetchall()]

        return self._call(connection, compiled, bound, execute)

    @staticmethod
    def _call(
        connection: Any, compiled: CompiledStatement, bound: Any, work: Callable[[Any], Any]
    ) -> Any:
        def invalidate(exc: BaseException) -> None:
            connection.invalidate(exc)
            connection_lost(connection.engine)

        return on_dbapi_connection(
            connection.dialect,
            connection.connection.dbapi_connection,
            invalidate,
            compiled,
            bound,
            work,
        )


def on_dbapi_connection(
    dialect: Dialect,
    dbapi_connection: Any,
    invalidate: Callable[[BaseException], None],
    compiled: CompiledStatement,
    bound: Any,
    work: Callable[[Any], Any],
) -> Any:
    """``work(cursor)`` on a cursor of ``dbapi_connection``; a database error raised as
    SQLAlchemy raises it, after ``invalidate(error)`` when the server dropped the connection (so
    that it does not go back to the pool for the next request)."""
    dbapi_error = dialect.loaded_dbapi.Error
    try:
        cursor = dbapi_connection.cursor()
        try:
            return work(cursor)
        finally:
            cursor.close()
    except dbapi_error as exc:
        lost = dialect.is_disconnect(exc, dbapi_connection, None)
        if lost:
            invalidate(exc)
        raise DBAPIError.instance(
            compiled.sql, bound, exc, dbapi_error, connection_invalidated=lost
        ) from exc
