"""Database outages: telling them from bugs, and riding them out in background loops.

A database that is restarting, refusing connections or has just killed ours is not a bug in
the platform: the API answers 503 with ``Retry-After`` (see :mod:`.errors`), and the loops
that deliver events, run jobs and send webhooks wait and try again, saying once that the
database went away and once that it came back, never once per try.
"""

from __future__ import annotations

import logging
import sqlite3
import time

from sqlalchemy import exc as sa_exc

__all__ = ["RETRY_AFTER_SECONDS", "OutageWatch", "database_unavailable", "describe"]

#: What a 503 during an outage tells clients to wait before trying again.
RETRY_AFTER_SECONDS = 5

# SQLite reports a busy or unreadable file through OperationalError, like a missing table;
# only these messages are about the database being unavailable rather than the statement.
_SQLITE_UNAVAILABLE = (
    "database is locked",
    "unable to open database file",
    "disk i/o error",
    "database or disk is full",
)


def database_unavailable(error: BaseException) -> bool:
    """Whether ``error`` (or what caused it) says the database could not be reached, the
    connection was lost, or no connection was free: an outage, not a faulty statement."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if _unavailable(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def _unavailable(error: BaseException) -> bool:
    if isinstance(error, sa_exc.DisconnectionError | sa_exc.TimeoutError):
        return True  # TimeoutError: no pooled connection came free in time
    if isinstance(error, sa_exc.DBAPIError):
        if error.connection_invalidated:
            return True
        original = error.orig
        if isinstance(original, sqlite3.OperationalError):
            return str(original).lower().startswith(_SQLITE_UNAVAILABLE)
        # psycopg's OperationalError: refused, reset, terminated by an administrator, the
        # server starting up or shutting down. Imported lazily: SQLite sites may lack it.
        try:
            import psycopg
        except ImportError:  # pragma: no cover - the postgres extra is not installed
            return False
        return isinstance(original, psycopg.OperationalError | psycopg.InterfaceError)
    return False


def describe(error: BaseException) -> str:
    """One line about ``error``, without SQLAlchemy's statement and background link."""
    original = getattr(error, "orig", None) or error
    first = str(original).strip().splitlines()[0] if str(original).strip() else ""
    return f"{type(original).__name__}: {first}" if first else type(original).__name__


class OutageWatch:
    """The state of one background loop's database: up, or down since when.

    Call :meth:`failed` when a round raised (it returns how long to wait: doubling from
    ``first`` up to ``cap`` seconds) and :meth:`succeeded` after a round that went through.
    The first failure of an outage is logged as a warning, the recovery as info, the tries in
    between not at all. An error that is not an outage is logged with its traceback (once per
    kind while it lasts) and waited out the same way, so a bug never spins a loop.
    """

    def __init__(
        self, log: logging.Logger, what: str, *, first: float = 0.5, cap: float = 10.0
    ) -> None:
        self.log = log
        self.what = what
        self.first = first
        self.cap = cap
        self.failures = 0
        self.down_since: float | None = None
        self._last_kind: str | None = None

    @property
    def down(self) -> bool:
        return self.down_since is not None

    def failed(self, error: BaseException) -> float:
        """Record a failed round; return the seconds to wait before the next one."""
        self.failures += 1
        kind = type(getattr(error, "orig", None) or error).__name__
        if database_unavailable(error):
            if self.down_since is None:
                self.down_since = time.monotonic()
                self.log.warning(
                    "%s: database unavailable (%s); retrying with backoff up to %.0f s",
                    self.what,
                    describe(error),
                    self.cap,
                )
        elif kind != self._last_kind:
            self.log.error("%s failed; retrying with backoff", self.what, exc_info=error)
        self._last_kind = kind
        wait: float = min(self.cap, self.first * 2 ** (self.failures - 1))
        return wait

    def succeeded(self) -> None:
        """Record a round that went through; log the recovery if the database was away."""
        if self.down_since is not None:
            self.log.warning(
                "%s: database available again after %.1f s",
                self.what,
                time.monotonic() - self.down_since,
            )
        self.failures = 0
        self.down_since = None
        self._last_kind = None
