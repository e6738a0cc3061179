"""通知: a user's notices, newest first; opening one marks it read and goes to its task."""

from __future__ import annotations

from typing import Any

from shequyun_sdk.params import path_id
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from ..portal.common import actor_of, db, kernel_of, page, render
from .service import KINDS

__all__ = ["ROUTES"]


@page()
async def notices_page(request: Request) -> Response:
    actor = actor_of(request)
    notices = kernel_of(request).notices
    items = await db(request, lambda s: notices.recent(s, actor.user_id))
    return render(
        request,
        "notices/list.html",
        {
            "items": items,
            "kinds": KINDS,
            "unread": sum(1 for n in items if n.read_at is None),
            "breadcrumbs": [("通知", None)],
        },
    )


@page()
async def notice_open(request: Request) -> Response:
    """Mark a notice read (``all``: every notice) and go where it points."""
    actor = actor_of(request)
    notices = kernel_of(request).notices
    raw = str(request.path_params["notice_id"])
    notice_id = None if raw == "all" else path_id(request, "notice_id")

    def work(session: Session) -> Any:
        return notices.mark_read(session, actor.user_id, notice_id)

    link = await db(request, work, commit=True)
    target = link if notice_id is not None and str(link).startswith("/") else "/notices"
    return RedirectResponse(target, status_code=303)


ROUTES: list[BaseRoute] = [
    Route("/notices", notices_page, methods=["GET"]),
    Route("/notices/{notice_id}/read", notice_open, methods=["POST"]),
]
