"""待确认的同事: the second person confirms the holder of an account whose password an
administrator set (:mod:`.holder_confirmation`), with the service the API calls."""

from __future__ import annotations

from typing import Any

from shequyun_sdk import ApiError, NotFound
from shequyun_sdk.params import path_id
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from ..portal.common import db, page, render
from . import holder_confirmation
from .api_support import call_of

__all__ = ["ROUTES"]


async def _listing(request: Request, **extra: Any) -> dict[str, Any]:
    call = call_of(request)

    def work(session: Session) -> list[holder_confirmation.Awaiting]:
        return holder_confirmation.awaiting(session, call)

    return {"waiting": await db(request, work), "error": None, "done": None, **extra}


@page()
async def colleagues_page(request: Request) -> Response:
    """The accounts the signed-in user may confirm now."""
    done = request.query_params.get("done")
    context = await _listing(
        request, done="已确认，该同事现在可以查看完整个人信息。" if done else None
    )
    return render(request, "confirm_colleagues.html", context)


@page()
async def confirm_page(request: Request) -> Response:
    """Confirm one account's holder; back to the list, or the list with the refusal."""
    call = call_of(request)
    user_id = path_id(request, "user_id")

    def work(session: Session) -> None:
        holder_confirmation.confirm_holder(session, call, user_id)
        session.commit()

    try:
        await db(request, work)
    except ApiError as exc:
        if isinstance(exc, NotFound):
            raise
        context = await _listing(request, error=exc.message)
        return render(request, "confirm_colleagues.html", context, status_code=exc.status_code)
    return RedirectResponse("/account/colleagues?done=1", status_code=303)


ROUTES: list[BaseRoute] = [
    Route("/account/colleagues", colleagues_page, methods=["GET"]),
    Route("/account/colleagues/{user_id:int}/confirm", confirm_page, methods=["POST"]),
]
