"""访问令牌: API tokens of the grants the admin manages; a new token's secret is shown once.

As in the API, a token acts under one grant; the grant's unit and its user's home unit must
lie in the admin's subtree, the admin must be able to give the grant's role, and every token
expires (1 to 366 days). Only a hash of the secret is stored.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from shequyun_sdk import ApiError, NotFound, ValidationFailed
from shequyun_sdk.params import parse_int, path_id
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from ..portal.common import db, page, render
from . import user_admin, user_lists
from .access import MAX_TOKEN_DAYS, Call, grant_json, load_grant, token_json
from .api_support import call_of
from .pages_admin import TOKENS_MANAGE, crumbs, errors_of, no_store, tr

__all__ = ["ROUTES"]

PAGE_SIZE = 50
DEFAULT_DAYS = 90
STATUS_TITLES = {"active": "有效", "expired": "已过期", "revoked": "已吊销"}


def _number(raw: str | None) -> int | None:
    try:
        return parse_int(raw, "id", low=1) if raw else None
    except ValidationFailed:
        return None


@page(TOKENS_MANAGE)
async def list_page(request: Request) -> Response:
    """The tokens of the grants the actor manages, newest first (never their secrets)."""
    call = call_of(request)
    user_id = _number(request.query_params.get("user_id"))
    cursor = _number(request.query_params.get("cursor"))

    def fetch(session: Session) -> dict[str, Any]:
        shown, more = user_lists.find_tokens(
            session, call, user_id=user_id, before=cursor, limit=PAGE_SIZE
        )
        return {
            "tokens": [token_json(call, *row) for row in shown],
            "next_cursor": shown[-1][0].id if more else None,
        }

    context = await db(request, fetch)
    filters = {"user_id": str(user_id)} if user_id else {}
    done = request.query_params.get("done")
    return render(
        request,
        "admin/tokens.html",
        {
            **context,
            "user_id": user_id,
            "status_titles": STATUS_TITLES,
            "notice": tr(request, "已吊销该令牌，它立即失效。") if done == "revoked" else None,
            "next_href": f"?{urlencode({**filters, 'cursor': context['next_cursor']})}"
            if context["next_cursor"]
            else None,
            "first_href": f"?{urlencode(filters)}" if cursor is not None else None,
            "breadcrumbs": crumbs(request, (tr(request, "访问令牌"), None)),
        },
    )


async def _grant_view(request: Request, call: Call, grant_id: int | None) -> dict[str, Any]:
    """The grant a new token would act under; 404 outside the actor's subtree."""
    if grant_id is None:
        raise NotFound("找不到该授权")

    def fetch(session: Session) -> dict[str, Any]:
        found = load_grant(call, session, grant_id, TOKENS_MANAGE)
        view = grant_json(call, found.grant, found.unit)
        return {**view, "user": {"id": found.user.id, "display_name": found.user.display_name}}

    result: dict[str, Any] = await db(request, fetch)
    return result


@page(TOKENS_MANAGE)
async def new_page(request: Request) -> Response:
    """签发令牌: name and lifetime; on success the secret, shown once."""
    call = call_of(request)
    if request.method == "GET":
        grant_id = _number(request.query_params.get("grant_id"))
        values = {"name": "", "expires_in_days": str(DEFAULT_DAYS)}
        errors: dict[str, str] = {}
    else:
        form = await request.form()
        grant_id = _number(str(form.get("grant_id") or ""))
        values = {k: str(form.get(k) or "").strip() for k in ("name", "expires_in_days")}
        errors = {}
    grant = await _grant_view(request, call, grant_id)
    context: dict[str, Any] = {
        "grant": grant,
        "values": values,
        "errors": errors,
        "max_days": MAX_TOKEN_DAYS,
        "breadcrumbs": crumbs(
            request, (tr(request, "访问令牌"), "/admin/tokens"), (tr(request, "签发令牌"), None)
        ),
    }
    if request.method == "GET":
        return render(request, "admin/token_new.html", context)
    days = _number(values["expires_in_days"])
    if not values["name"]:
        errors["name"] = "请填写令牌名称，如“民政局数据对接”"
    if days is None or days > MAX_TOKEN_DAYS:
        errors["expires_in_days"] = f"有效期应为 1 到 {MAX_TOKEN_DAYS} 天"
    if errors:
        return render(request, "admin/token_new.html", context, status_code=422)
    assert grant_id is not None and days is not None

    def work(session: Session) -> tuple[dict[str, Any], str]:
        token, found, secret = user_admin.issue_token(session, call, grant_id, values["name"], days)
        session.commit()
        return token_json(call, token, found.grant, found.unit, found.user), secret

    try:
        token, secret = await db(request, work)
    except ApiError as exc:
        context["errors"] = errors_of(exc)
        status = 422 if isinstance(exc, NotFound) else exc.status_code
        return render(request, "admin/token_new.html", context, status_code=status)
    return no_store(
        render(
            request,
            "admin/token_secret.html",
            {**context, "token": token, "secret": secret},
        )
    )


@page(TOKENS_MANAGE)
async def revoke_page(request: Request) -> Response:
    """Revoke a token: it stops working at once."""
    call = call_of(request)
    token_id = path_id(request, "token_id")
    form = await request.form()
    back_to = _number(str(form.get("user_id") or ""))

    def work(session: Session) -> None:
        user_admin.revoke_token(session, call, token_id)
        session.commit()

    await db(request, work)
    query = urlencode({"done": "revoked", **({"user_id": back_to} if back_to else {})})
    return RedirectResponse(f"/admin/tokens?{query}", status_code=303)


ROUTES: list[BaseRoute] = [
    Route("/admin/tokens", list_page, methods=["GET"]),
    Route("/admin/tokens/new", new_page, methods=["GET", "POST"]),
    Route("/admin/tokens/{token_id:int}/revoke", revoke_page, methods=["POST"]),
]
