"""``/api/v1`` grants: a role on a unit, given and revoked inside the admin's own subtree."""

from __future__ import annotations

from typing import Any

from shequyun_sdk import Conflict, Forbidden, ValidationFailed
from shequyun_sdk.identity import requires
from sqlmodel import Session, col, update
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..openapi import describe
from .api_support import (
    CREATED,
    INT,
    STR,
    USERS_MANAGE,
    USERS_VIEW,
    Call,
    active_grants,
    body_doc,
    end_sessions,
    grant_json,
    int_field,
    json_body,
    load_grant,
    load_unit,
    load_user,
    query_flag,
    query_param,
    refuse_escalation,
    text_field,
    utcnow,
)
from .directory import grant_role
from .models import ApiToken, WebSession

# -- grants ----------------------------------------------------------------------------------


@describe(parameters=[query_param("include_revoked", {"type": "boolean"}, "包括已撤销的授权")])
@requires(USERS_VIEW)
async def list_user_grants(request: Request) -> Response:
    """The user's grants on units inside the actor's subtree.

    ``include_revoked=true`` adds the revoked ones.
    """
    call = Call.of(request)
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
)
@requires(USERS_MANAGE)
async def create_grant(request: Request) -> Response:
    """Give a user a role on a unit.

    Body: ``user_id``, ``role``, ``unit_code``. Both the user's home unit and the unit must lie in
    the actor's subtree, the role must be allowed at the unit's level, and it may not carry a
    permission the actor lacks.
    """
    call = Call.of(request)
    body = await json_body(request, {"user_id", "role", "unit_code"})
    user_id = int_field(body, "user_id")
    role = text_field(body, "role", required=True) or ""
    unit_code = text_field(body, "unit_code", required=True) or ""
    if role not in call.registry.roles:
        raise ValidationFailed(f"未知角色 {role}", field="role")
    if user_id == call.actor.user_id:
        raise Forbidden("不能给自己授权，请由其他管理员办理", field="user_id")

    def work() -> dict[str, Any]:
        with Session(call.engine) as session:
            user, _ = load_user(call, session, user_id, USERS_MANAGE, "user_id")
            unit = load_unit(call, session, unit_code, USERS_MANAGE, "unit_code")
            grant = grant_role(
                session,
                call.registry,
                user=user,
                role=role,
                unit=unit,
                granted_by=call.actor.user_id,
            )
            refuse_escalation(call, role, unit)
            call.audit(
                session,
                "grant.created",
                "grant",
                grant.id,
                user_id=user.id,
                username=user.username,
                role=role,
                unit_code=unit.code,
            )
            session.commit()
            return grant_json(call, grant, unit)

    return JSONResponse(await run_in_threadpool(work), status_code=201)


@requires(USERS_MANAGE)
async def revoke_grant(request: Request) -> Response:
    """Revoke a grant: sessions acting under it end and its tokens are revoked."""
    call = Call.of(request)
    grant_id: int = request.path_params["grant_id"]

    def work() -> dict[str, Any]:
        with Session(call.engine) as session:
            found = load_grant(call, session, grant_id, USERS_MANAGE)
            grant = found.grant
            refuse_escalation(call, grant.role, found.unit)
            if grant.revoked_at is not None:
                raise Conflict("该授权已经撤销")
            if grant.id == call.actor.grant_id:
                raise Conflict("不能撤销您当前正在使用的授权")
            now = utcnow()
            grant.revoked_at = now
            session.add(grant)
            sessions = end_sessions(session, col(WebSession.grant_id) == grant_id)
            tokens = session.exec(
                update(ApiToken)
                .where(col(ApiToken.grant_id) == grant_id, col(ApiToken.revoked_at).is_(None))
                .values(revoked_at=now)
            ).rowcount
            call.audit(
                session,
                "grant.revoked",
                "grant",
                grant_id,
                user_id=grant.user_id,
                role=grant.role,
                unit_code=found.unit.code,
                sessions_ended=sessions,
                tokens_revoked=tokens,
            )
            session.commit()
            return {
                **grant_json(call, grant, found.unit),
                "sessions_ended": sessions,
                "tokens_revoked": tokens,
            }

    return JSONResponse(await run_in_threadpool(work))
