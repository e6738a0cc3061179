"""On PostgreSQL a transaction that only read ends with COMMIT, so psycopg keeps its plans.

psycopg prepares a statement on a connection once it has run it ``prepare_threshold`` times
(5), and on every ROLLBACK it forgets all it prepared on that connection (and sends
``DEALLOCATE ALL``). Every read of the platform ended with a ROLLBACK: a session closed
without commit (``in_session(commit=False)``), a plain connection closed or handed back to the
pool (its reset). So no statement stayed prepared across requests and each read was parsed
and planned afresh: about half of what a committee's list page cost PostgreSQL
(docs/operations.md gives the figures).

The engines :func:`~shequyun.db.make_engine` makes for psycopg open
:class:`ReadCommittingConnection`: its cursors note any statement that is not a plain read
(:func:`plain_read`), and its :meth:`~ReadCommittingConnection.rollback` ends a transaction
that ran only plain reads and did not fail with COMMIT instead. Such a transaction changed
nothing, so the two ends are the same to the data; every caller (SQLAlchemy's connection and
session, the pool's reset on return, code on the DBAPI connection) gets it without asking.
Whatever is in doubt rolls back: a write, anything that is not one SELECT (or WITH) statement,
a failed transaction, a statement given as anything but text, a cursor class that is not ours.
Named (server-side) cursors stay psycopg's own: PostgreSQL lets them declare only a query that
reads.

Behind PgBouncer in transaction mode psycopg prepares nothing (``prepare_threshold`` None) and
the COMMIT ends the transaction as the ROLLBACK did; a replica commits a read-only
transaction as the primary does.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import psycopg
from psycopg.pq import PipelineStatus, TransactionStatus

__all__ = ["NotingCursor", "ReadCommittingConnection", "plain_read"]

_EMPTY = re.compile(r"[\s;]*\Z")
_READ = re.compile(r"\s*\(*\s*(?:SELECT|WITH)\b", re.IGNORECASE)
#: What makes a SELECT (or WITH) more than a read: a write or a lock of rows, a second
#: statement, or a function whose effect a COMMIT would keep and a ROLLBACK undo (a
#: notification, a setting of the session, a sequence moved by hand, a large object) or that
#: reaches outside the transaction.
_NOT_ONLY_READ = re.compile(
    r"\b(?:INSERT|UPDATE|DELETE|MERGE|INTO|SHARE|pg_notify|set_config|setval|nextval"
    r"|lo_\w+|pg_advisory\w*|dblink\w*)\b|;\s*\S",
    re.IGNORECASE,
)


#: Statements longer than this are looked at on every run rather than remembered: a bound on
#: the memory of :func:`plain_read`'s answers (a batch INSERT's text runs to megabytes).
CACHED_LENGTH = 4096


def plain_read(sql: str) -> bool:
    """Whether ``sql`` only reads: one statement that starts with SELECT or WITH and names
    nothing of :data:`_NOT_ONLY_READ`. A function of our own that writes, called from a
    SELECT, would pass: the kernel's functions (``kernel_name_grams``) only compute.

    An empty statement reads too: it is the pool's ping (``;``), before every checkout."""
    if len(sql) > CACHED_LENGTH:
        return _plain_read(sql)
    return _remembered(sql)


def _plain_read(sql: str) -> bool:
    if _EMPTY.match(sql):
        return True
    return _READ.match(sql) is not None and _NOT_ONLY_READ.search(sql) is None


# The platform sends the same few hundred statement texts over and over.
_remembered = functools.lru_cache(maxsize=2048)(_plain_read)


class NotingCursor(psycopg.Cursor[Any]):
    """A cursor that tells its connection when it runs anything but a plain read (before
    running it, so that a statement which fails half-way counts too)."""

    __slots__ = ()

    def execute(self, query: Any, *args: Any, **kwargs: Any) -> Any:
        if not (isinstance(query, str) and plain_read(query)):
            self.connection.wrote = True  # type: ignore[attr-defined]
        return super().execute(query, *args, **kwargs)

    def executemany(self, query: Any, *args: Any, **kwargs: Any) -> None:
        if not (isinstance(query, str) and plain_read(query)):
            self.connection.wrote = True  # type: ignore[attr-defined]
        super().executemany(query, *args, **kwargs)

    def stream(self, query: Any, *args: Any, **kwargs: Any) -> Any:
        if not (isinstance(query, str) and plain_read(query)):
            self.connection.wrote = True  # type: ignore[attr-defined]
        return super().stream(query, *args, **kwargs)

    def copy(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        self.connection.wrote = True  # type: ignore[attr-defined]
        return super().copy(statement, *args, **kwargs)


class ReadCommittingConnection(psycopg.Connection[Any]):
    """A psycopg connection whose rollback of a transaction that only read is a COMMIT."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cursor_factory = NotingCursor
        #: Whether the current transaction ran anything but plain reads.
        self.wrote = False

    def rollback(self) -> None:
        """End the transaction: with COMMIT when it only read and did not fail (psycopg then
        keeps its prepared statements), else with ROLLBACK."""
        if self.wrote or not self._only_read():
            self.wrote = False
            super().rollback()
            return
        self.commit()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            if self.info.transaction_status == TransactionStatus.IDLE:
                self.wrote = False

    def _only_read(self) -> bool:
        return (
            self.info.transaction_status == TransactionStatus.INTRANS
            and self.pgconn.pipeline_status == PipelineStatus.OFF
            and issubclass(self.cursor_factory, NotingCursor)
        )
