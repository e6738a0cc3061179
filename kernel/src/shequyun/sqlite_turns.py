"""SQLite writers take turns instead of polling for the write lock.

SQLite lets one transaction write at a time. A writer that finds the lock taken is put to
sleep by SQLite's busy handler for 1, 2, 5, 10 … up to 100 ms between tries, however soon the
lock is free again. With a few requests writing at once (every submission writes), most of a
busy server's time went to those sleeps: one worker used 70% of a core, and two workers were
slower than one.

Here a connection takes a *turn* just before the first statement of a transaction that writes
(``INSERT``, ``UPDATE``, ``DELETE``, ``REPLACE``: where SQLite's driver begins the transaction)
and gives it back when the transaction ends. Threads of one process wait on a lock, and are
woken the moment it is released; processes (several uvicorn workers) wait on an advisory
``flock`` of ``<database>-turn`` beside the database, tried every half millisecond. The
turn is only an ordering: SQLite's own locking still guards the data, so a turn that cannot
be had in 30 s (a stuck writer) is skipped and SQLite decides, as it did before; a thread
that already holds a turn on another connection does not wait for itself.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from typing import Any

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: threads of one process still take turns
    fcntl = None  # type: ignore[assignment]

__all__ = ["TurnTakingConnection"]

log = logging.getLogger(__name__)

#: How long a writer waits for its turn before leaving it to SQLite's busy timeout.
WAIT_SECONDS = 30.0
_POLL_SECONDS = 0.0005
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")
#: Turns held by each thread (by thread id), on any connection.
_held_by_thread: dict[int, int] = {}


class _Turns:
    """The turns of one database file, within this process and across processes."""

    def __init__(self, database: str) -> None:
        self.lock = threading.Lock()
        self.lock_path = database + "-turn"
        self._fd: int | None = None
        self._pid = 0

    def take(self) -> bool:
        """Wait for the turn (at most ``WAIT_SECONDS``); whether it was had."""
        if not self.lock.acquire(timeout=WAIT_SECONDS):
            return False
        fd = self._file()
        if fd is None:
            return True
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() > deadline:
                    self.lock.release()
                    return False
                time.sleep(_POLL_SECONDS)

    def give_back(self) -> None:
        if fcntl is not None and self._fd is not None and self._fd >= 0:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self.lock.release()

    def _file(self) -> int | None:
        """This process's descriptor of the turn file (a forked child opens its own: a
        descriptor shared with the parent would share its lock); None when there is none to
        be had: then only this process's threads take turns, and SQLite orders the rest."""
        if fcntl is None or (self._fd == -1 and self._pid == os.getpid()):
            return None
        if self._fd is None or self._pid != os.getpid():
            self._pid = os.getpid()
            try:
                self._fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            except OSError as exc:
                self._fd = -1
                log.warning("SQLite writers of other processes will not take turns: %s", exc)
                return None
        return self._fd


_by_database: dict[str, _Turns] = {}
_by_database_lock = threading.Lock()


def _turns_for(database: str) -> _Turns:
    with _by_database_lock:
        found = _by_database.get(database)
        if found is None:
            found = _by_database[database] = _Turns(database)
        return found


class TurnTakingCursor(sqlite3.Cursor):
    """Takes its connection's turn before a statement that begins a writing transaction."""

    connection: TurnTakingConnection

    def execute(self, sql: str, parameters: Any = (), /) -> TurnTakingCursor:
        self.connection.before(sql)
        try:
            super().execute(sql, parameters)
        finally:
            self.connection.after()
        return self

    def executemany(self, sql: str, parameters: Any, /) -> TurnTakingCursor:
        self.connection.before(sql)
        try:
            super().executemany(sql, parameters)
        finally:
            self.connection.after()
        return self


class TurnTakingConnection(sqlite3.Connection):
    """A ``sqlite3`` connection whose writing transactions take turns (pass it as
    ``factory=`` to ``sqlite3.connect``; in-memory databases are left alone)."""

    def __init__(self, database: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(database, *args, **kwargs)
        name = os.fspath(database)
        name = name if isinstance(name, str) else name.decode()
        memory = name in ("", ":memory:") or name.startswith("file:")
        self._turns = None if memory else _turns_for(os.path.abspath(name))
        self._has_turn = False
        self._holder = 0

    def cursor(self, factory: Any = TurnTakingCursor) -> Any:
        return super().cursor(factory)

    def execute(self, sql: str, parameters: Any = (), /) -> Any:
        return self.cursor().execute(sql, parameters)

    def executemany(self, sql: str, parameters: Any, /) -> Any:
        return self.cursor().executemany(sql, parameters)

    def before(self, sql: str) -> None:
        if self._turns is None or self._has_turn or self.in_transaction:
            return
        if not sql.lstrip()[:7].upper().startswith(_WRITES):
            return
        thread = threading.get_ident()
        if _held_by_thread.get(thread):  # this thread holds a turn elsewhere: don't wait on it
            return
        if self._turns.take():
            self._has_turn, self._holder = True, thread
            _held_by_thread[thread] = 1

    def after(self) -> None:
        """An autocommitted write, or a failed first write, ends without a transaction."""
        if self._has_turn and not self.in_transaction:
            self._give_back()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._give_back()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._give_back()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._give_back()

    def _give_back(self) -> None:
        if self._has_turn and self._turns is not None:
            self._has_turn = False
            _held_by_thread.pop(self._holder, None)
            self._turns.give_back()
