"""Database work off the event loop, for both doors: a portal page and an API handler hand
their ``work(session)`` (which calls the services) to :func:`in_session`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

__all__ = ["in_session"]


async def in_session(
    request: Request, work: Callable[[Session], Any], *, commit: bool = False
) -> Any:
    """Run ``work(session)`` in a worker thread; commit afterwards when asked."""
    engine = request.app.state.kernel.engine

    def run() -> Any:
        with Session(engine, expire_on_commit=False) as session:
            result = work(session)
            if commit:
                session.commit()
            return result

    return await run_in_threadpool(run)
