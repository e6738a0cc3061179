"""``/api/v1/users/awaiting-confirmation`` and ``…/{id}/confirm-holder``: the second person who
confirms the holder of an account whose password an administrator set
(:mod:`.holder_confirmation`)."""

from __future__ import annotations

from typing import Any

from shequyun_sdk.identity import requires
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..openapi import describe
from . import api_schemas as docs
from . import holder_confirmation
from .access import unit_json
from .api_support import call_of


@describe(response=docs.AWAITING_LIST)
@requires()
async def list_awaiting(request: Request) -> Response:
    """Accounts whose holder the caller may confirm now: their password was set by an
    administrator without personal-data permissions, their holder has changed it since, and
    the caller holds those permissions wherever the account's grants carry them."""
    call = call_of(request)

    def work() -> dict[str, Any]:
        with Session(call.engine) as session:
            items = [
                {
                    "id": a.user.id,
                    "username": a.user.username,
                    "display_name": a.user.display_name,
                    "units": [unit_json(u) for u in a.units],
                    "password_set_by": a.set_by,
                }
                for a in holder_confirmation.awaiting(session, call)
            ]
            return {"items": items}

    return JSONResponse(await run_in_threadpool(work))


@describe(response=docs.CONFIRMED)
@requires()
async def confirm_holder(request: Request) -> Response:
    """Confirm the account's holder: its grants carry ``residents.reveal`` and
    ``residents.export`` again. 422 naming why when the caller may not (they set the password,
    the holder has not changed it yet, they lack the permissions on a unit of the account)."""
    call = call_of(request)
    user_id: int = request.path_params["user_id"]

    def work() -> dict[str, Any]:
        with Session(call.engine) as session:
            user = holder_confirmation.confirm_holder(session, call, user_id)
            session.commit()
            return {"id": user.id, "username": user.username, "awaiting_confirmation": False}

    return JSONResponse(await run_in_threadpool(work))
