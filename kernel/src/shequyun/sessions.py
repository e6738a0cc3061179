"""Database work off the event loop, for both doors: a portal page and an API handler hand
their ``work(session)`` (which calls the services) to :func:`in_session`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from .replicas import download_allowed, replica_allowed

__all__ = ["download_engine", "in_session", "reading_engine"]


def reading_engine(request: Request) -> Engine:
    """Where this request reads: a healthy replica when its route is marked
    :func:`~shequyun.replicas.reads_replica` and its person did not just write, else the
    primary."""
    kernel = request.app.state.kernel
    if kernel.replicas is not None and replica_allowed(request.scope):
        replica: Engine | None = kernel.replicas.engine_for_reading()
        if replica is not None:
            return replica
    primary: Engine = kernel.engine
    return primary


def download_engine(request: Request) -> Engine:
    """Where a download asked for by a form (a POST that only reads) reads its rows: a healthy
    replica when its person had not just written, else the primary. Call it in a worker
    thread: picking a replica may check the replicas' health."""
    kernel = request.app.state.kernel
    if kernel.replicas is not None and download_allowed(request.scope):
        replica: Engine | None = kernel.replicas.engine_for_reading()
        if replica is not None:
            return replica
    primary: Engine = kernel.engine
    return primary


async def in_session(
    request: Request, work: Callable[[Session], Any], *, commit: bool = False
) -> Any:
    """Run ``work(session)`` in a worker thread; commit afterwards when asked (work that is
    not committed reads from a replica on a route marked for it). Work not committed is rolled
    back; on PostgreSQL, when it only read, its transaction ends with COMMIT instead, which
    keeps psycopg's prepared statements (:mod:`shequyun.read_transactions`)."""

    def run() -> Any:
        # Chosen here, off the event loop: picking a replica may check the replicas' health.
        engine = request.app.state.kernel.engine if commit else reading_engine(request)
        with Session(engine, expire_on_commit=False) as session:
            result = work(session)
            if commit:
                session.commit()
            return result

    return await run_in_threadpool(run)
