"""CPU time a PostgreSQL server on this machine spends for one database.

On a busy machine a query waits for a core far longer than it works, and the waiting lands in
the wall-clock figures. The work itself is the client's CPU time plus the server's. Linux keeps
each process's time on a CPU in ``/proc/<pid>/schedstat`` (nanoseconds), so when the server runs
here, the backends connected to the benchmark's database can be asked; elsewhere there is no
server figure and the notes say so.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

__all__ = ["ServerClock", "timed"]

_BACKENDS = text(
    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
    "AND pid <> pg_backend_pid()"
)


class ServerClock:
    """Reads the CPU time of every backend of the database, through a connection of its own
    (left out of the sum; autocommit, since a transaction would keep one snapshot of the
    activity table)."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    @classmethod
    def open(cls, engine: Engine) -> ServerClock | None:
        """A clock for ``engine``'s database, or None when it is not a PostgreSQL whose backends
        this machine can see."""
        if engine.dialect.name != "postgresql":
            return None
        connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        clock = cls(connection)
        own = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        if _runtime(int(own)) is None:
            connection.close()
            return None
        return clock

    def sample(self) -> dict[int, int]:
        """``{backend pid: nanoseconds on a CPU so far}``."""
        pids = self._connection.execute(_BACKENDS).scalars().all()
        found = {int(pid): _runtime(int(pid)) for pid in pids}
        return {pid: ns for pid, ns in found.items() if ns is not None}

    def close(self) -> None:
        self._connection.close()


def timed(work: Callable[[], Any], repeats: int, clock: ServerClock | None) -> tuple[float, float]:
    """Mean wall-clock and CPU milliseconds of ``work`` over ``repeats`` calls. CPU time is this
    process's, plus the server's when there is a ``clock`` (SQLite works in this process)."""
    before = clock.sample() if clock else {}
    cpu = time.process_time()
    began = time.perf_counter()
    for _ in range(repeats):
        work()
    wall = time.perf_counter() - began
    cpu = time.process_time() - cpu
    if clock:
        after = clock.sample()
        cpu += sum(ns - before.get(pid, 0) for pid, ns in after.items()) / 1e9
    return wall * 1000 / repeats, cpu * 1000 / repeats


def _runtime(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
