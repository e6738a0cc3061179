"""``/units/pick``: what the unit picker of the portal's forms shows (JSON for its script).

A portal route rather than an API operation: it answers the signed-in staff member's browser
only, with the trail of names a person reads, and its reach follows the form (see
:mod:`.unit_picker`).
"""

from __future__ import annotations

from shequyun_sdk import ApiError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ..portal.common import actor_of, db, page
from .unit_picker import pick

__all__ = ["ROUTES"]

PARAMETERS = ("q", "parent", "code", "level", "reach")


@page()
async def pick_page(request: Request) -> Response:
    """Units for the picker: ``q`` to search, ``parent`` to drill down, ``code`` to name one."""
    actor = actor_of(request)
    params = request.query_params
    unknown = [k for k in params if k not in PARAMETERS]
    if unknown:
        message = f"未知的查询参数 {unknown[0]}，可用：{'、'.join(PARAMETERS)}"
        return JSONResponse(
            {"error": {"code": "invalid", "message": message, "field": unknown[0]}}, 400
        )
    asked = {k: params[k][:60] for k in PARAMETERS if params.get(k)}
    try:
        found = await db(request, lambda session: pick(session, actor, **asked))
    except ApiError as exc:
        body = {"error": {"code": exc.code, "message": exc.message, "field": exc.field}}
        return JSONResponse(body, exc.status_code)
    return JSONResponse(found.as_json())


ROUTES: list[BaseRoute] = [Route("/units/pick", pick_page, methods=["GET"])]
