"""What the collection endpoints share: the kernel, database work off the event loop and the
``within`` filter.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlmodel import Session
from starlette.requests import Request

from ..identity.models import OrgUnit
from ..sessions import in_session
from .follow_up import find_within

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def kernel_of(request: Request) -> Any:
    return request.app.state.kernel


async def run_work(request: Request, work: Callable[[Session], Any], *, commit: bool) -> Any:
    return await in_session(request, work, commit=commit)


def within_unit(session: Session, actor: Any, request: Request, permission: str) -> OrgUnit | None:
    """The unit of the ``within`` query parameter (see :func:`.follow_up.find_within`)."""
    return find_within(session, actor, request.query_params.get("within"), permission)
