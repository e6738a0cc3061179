"""``/api/v1`` grants: a role on a unit, given and revoked inside the admin's own subtree."""

from __future__ import annotations

from typing import Any

from shequyun_sdk.identity import requires
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..openapi import describe
from . import api_schemas as docs
from . import user_admin
from .api_support import (
    CREATED,
    INT,
    STR,
    USERS_MANAGE,
    USERS_VIEW,
    active_grants,
    body_doc,
    call_of,
    grant_json,
    id_field,
    json_body,
    load_user,
    query_flag,
    query_param,
    text_field,
)

# -- grants ----------------------------------------------------------------------------------


@describe(
    parameters=[query_param("include_revoked", {"type": "boolean"}, "包括已撤销的授权")],
    response=docs.GRANTS,
)
@requires(USERS_VIEW)
async def list_user_grants(request: Request) -> Response:
    """The user's grants on units inside the actor's subtree.

    ``include_revoked=true`` adds the revoked ones.
    """
    call = call_of(request)
    user_id: int = request.path_params["user_id"]
    include_revoked = query_flag(request, "include_revoked", False)

    def work() -> dict[str, Any]:
        with Session(call.engine) as session:
            load_user(call, session, user_id, USERS_VIEW)
            grants = active_grants(session, call, [user_id], include_revoked)[user_id]
            return {"items": [grant_json(call, g, u) for g, u in grants]}

    return JSONResponse(await run_in_threadpool(work))


@describe(
    requestBody=body_doc(
        ["user_id", "role", "unit_code"], {"user_id": INT, "role": STR, "unit_code": STR}
    ),
    responses=CREATED,
    response=docs.GRANT,
    status=201,
)
@requires(USERS_MANAGE)
async def create_grant(request: Request) -> Response:
    """Give a user a role on a unit.

    Body: ``user_id``, ``role``, ``unit_code``. Both the user's home unit and the unit must lie in
    the actor's subtree, the role must be allowed at the unit's level, and it may not carry a
    permission the actor lacks.
    """
    call = call_of(request)
    body = await json_body(request, {"user_id", "role", "unit_code"})
    user_id = id_field(body, "user_id")
    role = text_field(body, "role", required=True) or ""
    unit_code = text_field(body, "unit_code", required=True) or ""

    def work() -> dict[str, Any]:
        with Session(call.engine) as session:
            grant, unit = user_admin.give_grant(session, call, user_id, role, unit_code)
            session.commit()
            return grant_json(call, grant, unit)

    return JSONResponse(await run_in_threadpool(work), status_code=201)


@describe(response=docs.REVOKED_GRANT)
@requires(USERS_MANAGE)
async def revoke_grant(request: Request) -> Response:
    """Revoke a grant: sessions acting under it end and its tokens are revoked."""
    call = call_of(request)
    grant_id: int = request.path_params["grant_id"]

    def work() -> dict[str, Any]:
        with Session(call.engine) as session:
            revoked = user_admin.revoke_grant(session, call, grant_id)
            session.commit()
            found = revoked.found
            return {
                **grant_json(call, found.grant, found.unit),
                "sessions_ended": revoked.sessions_ended,
                "tokens_revoked": revoked.tokens_revoked,
            }

    return JSONResponse(await run_in_threadpool(work))
