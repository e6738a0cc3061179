"""``/api/v1/me``: who am I, under which grant, and what may I do."""

from __future__ import annotations

from shequyun_sdk.identity import requires
from shequyun_sdk.openapi import describe
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from . import api_schemas as docs
from .auth import request_actor

__all__ = ["ROUTES"]


@describe(response=docs.ME)
@requires()
async def me(request: Request) -> Response:
    """The authenticated actor: user, grant, unit and permissions."""
    actor = request_actor(request)
    assert actor is not None
    unit = actor.unit
    return JSONResponse(
        {
            "user": {
                "id": actor.user_id,
                "username": actor.username,
                "display_name": actor.display_name,
            },
            "grant": None
            if actor.grant_id is None
            else {
                "id": actor.grant_id,
                "role": actor.role,
                "unit": None
                if unit is None
                else {"code": unit.code, "name": unit.name, "level": unit.level},
            },
            "permissions": sorted(actor.permissions),
            "via": actor.via,
            # The portal's scripts send this back as X-CSRF-Token on changes.
            "csrf_token": request.scope.get("shequyun.csrf") if actor.via == "session" else None,
        }
    )


ROUTES: list[BaseRoute] = [Route("/me", me, methods=["GET"])]
