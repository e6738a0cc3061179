"""``/api/v1/tokens``: API tokens of the grants an admin manages; a secret is shown once."""

from __future__ import annotations

from typing import Any

from shequyun_sdk.identity import requires
from shequyun_sdk.params import query_int
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..openapi import describe
from . import api_schemas as docs
from . import user_admin, user_lists
from .api_support import (
    INT,
    MAX_TOKEN_DAYS,
    PAGE_PARAMS,
    STR,
    TOKENS_MANAGE,
    body_doc,
    call_of,
    id_field,
    int_field,
    json_body,
    page_bounds,
    query_param,
    text_field,
    token_json,
)

# -- tokens ----------------------------------------------------------------------------------


@describe(
    parameters=[
        query_param("user_id", INT, "只列出该用户的令牌"),
        query_param("grant_id", INT, "只列出该授权的令牌"),
        *PAGE_PARAMS,
    ],
    response=docs.TOKEN_PAGE,
)
@requires(TOKENS_MANAGE)
async def list_tokens(request: Request) -> Response:
    """API tokens of the grants the actor manages, newest first (never their secrets).

    Query: ``user_id``, ``grant_id``, ``limit`` (1-500), ``cursor``.
    """
    call = call_of(request)
    limit, before = page_bounds(request)
    user_id = query_int(request, "user_id", 0, low=1)
    grant_id = query_int(request, "grant_id", 0, low=1)

    def work() -> dict[str, Any]:
        with Session(call.engine) as session:
            page, more = user_lists.find_tokens(
                session, call, user_id=user_id, grant_id=grant_id, before=before, limit=limit
            )
            return {
                "items": [token_json(call, *row) for row in page],
                "next_cursor": str(page[-1][0].id) if more else None,
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
    response=docs.TOKEN,
    status=201,
)
@requires(TOKENS_MANAGE)
async def create_token(request: Request) -> Response:
    """Create an API token acting under a grant; its secret is shown once.

    Body: ``grant_id``, ``name``, ``expires_in_days`` (1-366: every token expires). The secret is in
    the answer (``secret``) and nowhere else: only its hash is stored.
    """
    call = call_of(request)
    body = await json_body(request, {"grant_id", "name", "expires_in_days"})
    grant_id = id_field(body, "grant_id")
    name = text_field(body, "name", required=True) or ""
    days = int_field(body, "expires_in_days")

    def work() -> dict[str, Any]:
        with Session(call.engine) as session:
            token, found, secret = user_admin.issue_token(session, call, grant_id, name, days)
            session.commit()
            return {
                **token_json(call, token, found.grant, found.unit, found.user),
                "secret": secret,
            }

    return JSONResponse(await run_in_threadpool(work), status_code=201)


@describe(response=docs.TOKEN)
@requires(TOKENS_MANAGE)
async def revoke_token(request: Request) -> Response:
    """Revoke an API token; it stops working at once."""
    call = call_of(request)
    token_id: int = request.path_params["token_id"]

    def work() -> dict[str, Any]:
        with Session(call.engine) as session:
            token, found = user_admin.revoke_token(session, call, token_id)
            session.commit()
            return token_json(call, token, found.grant, found.unit, found.user)

    return JSONResponse(await run_in_threadpool(work))
