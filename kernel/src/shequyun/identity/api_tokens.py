"""``/api/v1/tokens``: API tokens of the grants an admin manages; a secret is shown once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from shequyun_sdk import Conflict, NotFound, ValidationFailed
from shequyun_sdk.identity import requires
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..openapi import describe
from . import directory, scope
from .api_support import (
    INT,
    MAX_TOKEN_DAYS,
    PAGE_PARAMS,
    STR,
    TOKENS_MANAGE,
    Call,
    body_doc,
    int_field,
    iso,
    json_body,
    load_grant,
    page_bounds,
    query_int,
    query_param,
    refuse_escalation,
    refuse_token_delegation,
    text_field,
    token_json,
    utcnow,
)
from .models import ApiToken, Grant, OrgUnit, User

# -- tokens ----------------------------------------------------------------------------------


@describe(
    parameters=[
        query_param("user_id", INT, "只列出该用户的令牌"),
        query_param("grant_id", INT, "只列出该授权的令牌"),
        *PAGE_PARAMS,
    ]
)
@requires(TOKENS_MANAGE)
async def list_tokens(request: Request) -> Response:
    """API tokens of the grants the actor manages, newest first (never their secrets).

    Query: ``user_id``, ``grant_id``, ``limit`` (1-500), ``cursor``.
    """
    call = Call.of(request)
    limit, before = page_bounds(request, col(ApiToken.id))
    user_id = query_int(request, "user_id", 0, 1, 2**31 - 1)
    grant_id = query_int(request, "grant_id", 0, 1, 2**31 - 1)

    def work() -> dict[str, Any]:
        with Session(call.engine) as session:
            query = (
                select(ApiToken, Grant, OrgUnit, User)
                .join(Grant, col(Grant.id) == ApiToken.grant_id)
                .join(OrgUnit, col(OrgUnit.id) == Grant.unit_id)
                .join(User, col(User.id) == Grant.user_id)
                .where(
                    scope.unit_scope_filter(call.actor, TOKENS_MANAGE),
                    scope.scope_filter(call.actor, TOKENS_MANAGE, User.home_unit_id),
                    before,
                )
                .order_by(col(ApiToken.id).desc())
                .limit(limit + 1)
            )
            if user_id:
                query = query.where(Grant.user_id == user_id)
            if grant_id:
                query = query.where(ApiToken.grant_id == grant_id)
            rows = session.exec(query).all()
            page = rows[:limit]
            return {
                "items": [token_json(call, *row) for row in page],
                "next_cursor": str(page[-1][0].id) if len(rows) > limit else None,
            }

    return JSONResponse(await run_in_threadpool(work))


@describe(
    requestBody=body_doc(
        ["grant_id", "name", "expires_in_days"],
        {
            "grant_id": INT,
            "name": STR,
            "expires_in_days": {"type": "integer", "minimum": 1, "maximum": MAX_TOKEN_DAYS},
        },
    ),
    responses={"201": {"description": "已创建；secret 仅在此返回一次"}},
)
@requires(TOKENS_MANAGE)
async def create_token(request: Request) -> Response:
    """Create an API token acting under a grant; its secret is shown once.

    Body: ``grant_id``, ``name``, ``expires_in_days`` (1-366: every token expires). The secret is in
    the answer (``secret``) and nowhere else: only its hash is stored.
    """
    call = Call.of(request)
    body = await json_body(request, {"grant_id", "name", "expires_in_days"})
    grant_id = int_field(body, "grant_id")
    name = text_field(body, "name", required=True) or ""
    days = int_field(body, "expires_in_days")
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise ValidationFailed(f"有效期应为 1 到 {MAX_TOKEN_DAYS} 天", field="expires_in_days")

    def work() -> dict[str, Any]:
        with Session(call.engine) as session:
            found = load_grant(call, session, grant_id, TOKENS_MANAGE, "grant_id")
            refuse_escalation(call, found.grant.role, found.unit, "grant_id")
            refuse_token_delegation(call, found.grant)
            if not found.user.is_active:
                raise ValidationFailed("该用户已停用，不能为其签发令牌", field="grant_id")
            token, secret = directory.create_token(
                session,
                grant=found.grant,
                name=name,
                expires_at=utcnow() + timedelta(days=days),
                created_by=call.actor.user_id,
            )
            call.audit(
                session,
                "token.created",
                "token",
                token.id,
                grant_id=grant_id,
                name=token.name,
                prefix=token.prefix,
                expires_at=iso(token.expires_at),
            )
            session.commit()
            return {
                **token_json(call, token, found.grant, found.unit, found.user),
                "secret": secret,
            }

    return JSONResponse(await run_in_threadpool(work), status_code=201)


@requires(TOKENS_MANAGE)
async def revoke_token(request: Request) -> Response:
    """Revoke an API token; it stops working at once."""
    call = Call.of(request)
    token_id: int = request.path_params["token_id"]

    def work() -> dict[str, Any]:
        with Session(call.engine) as session:
            token = session.get(ApiToken, token_id)
            if token is None:
                raise NotFound("找不到该令牌")
            try:
                found = load_grant(call, session, token.grant_id, TOKENS_MANAGE)
            except NotFound:
                raise NotFound("找不到该令牌") from None
            refuse_escalation(call, found.grant.role, found.unit)
            if token.revoked_at is not None:
                raise Conflict("该令牌已经撤销")
            token.revoked_at = utcnow()
            session.add(token)
            call.audit(session, "token.revoked", "token", token_id, grant_id=token.grant_id)
            session.commit()
            return token_json(call, token, found.grant, found.unit, found.user)

    return JSONResponse(await run_in_threadpool(work))
