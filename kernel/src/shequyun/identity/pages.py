"""Portal pages of the identity plugin: login, logout, password change, choosing a grant.

The rules of each are in :mod:`.accounts` (logging in) and :mod:`.own_account`.
"""

from __future__ import annotations

from typing import Any

from shequyun_sdk import TooManyAttempts, platform_from_request
from shequyun_sdk.params import form_int
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from ..i18n import Message
from ..metrics import LOGIN_FAILURES
from ..templating import language_of
from .accounts import attempt_login
from .auth import SESSION_COOKIE, client_ip, cookie_header, request_actor
from .models import Grant, OrgUnit
from .own_account import change_password, own_grants, record_logout, switch_grant

__all__ = ["ROUTES"]


def _role_title(role: Any, english: bool) -> str:
    return str(role.title_en if english and role.title_en else role.title)


def _kernel(request: Request) -> Any:
    return request.app.state.kernel


def _safe_next(target: str | None) -> str:
    """Only local paths: never redirect a cadre to another site after login."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


async def login_page(request: Request) -> Response:
    platform = platform_from_request(request)
    if request.method == "GET":
        return platform.render(
            request,
            "login.html",
            {"error": None, "username": "", "next": request.query_params.get("next", "")},
        )
    form = await request.form()
    username = str(form.get("username", ""))[:64]
    password = str(form.get("password", ""))[:256]
    next_path = _safe_next(str(form.get("next", "")))
    kernel = _kernel(request)
    result = await run_in_threadpool(
        attempt_login, kernel.engine, username, password, client_ip=client_ip(request)
    )
    if not result.ok:
        LOGIN_FAILURES.labels(result.outcome).inc()
        messages = {
            "bad_credentials": "用户名或密码不正确",
            "too_soon": Message("尝试过于频繁，请 {n} 秒后再试", n=result.retry_after),
            "locked": Message(
                "失败次数过多，账户已暂时锁定，请 {n} 分钟后再试", n=(result.retry_after + 59) // 60
            ),
        }
        status = 401 if result.outcome == "bad_credentials" else 429
        response = platform.render(
            request,
            "login.html",
            {"error": messages[result.outcome], "username": username, "next": next_path},
            status_code=status,
        )
        if result.retry_after:
            response.headers["Retry-After"] = str(result.retry_after)
        return response
    assert result.user is not None

    def start() -> str:
        with Session(kernel.engine) as session:
            cookie: str = kernel.authenticator.start_session(
                session, result.user, result.grant_id, client_ip(request)
            )
            session.commit()
            return cookie

    cookie = await run_in_threadpool(start)
    target = "/account/password" if result.user.must_change_password else next_path
    response = RedirectResponse(target, status_code=303)
    name, value = cookie_header(
        SESSION_COOKIE,
        cookie,
        secure=kernel.settings.https,
        max_age=int(kernel.authenticator.session_lifetime.total_seconds()),
    )
    response.raw_headers.append((name, value))
    return response


async def logout(request: Request) -> Response:
    kernel = _kernel(request)
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        await run_in_threadpool(kernel.authenticator.end_session, cookie)
    actor = request_actor(request)
    if actor is not None:

        def record() -> None:
            with Session(kernel.engine) as session:
                record_logout(session, actor)
                session.commit()

        await run_in_threadpool(record)
    response = RedirectResponse("/login", status_code=303)
    response.raw_headers.append(
        cookie_header(SESSION_COOKIE, "", secure=kernel.settings.https, max_age=0)
    )
    return response


async def password_page(request: Request) -> Response:
    platform = platform_from_request(request)
    actor = request_actor(request)
    if actor is None:
        return RedirectResponse("/login?next=/account/password", status_code=303)
    context: dict[str, Any] = {"errors": {}, "forced": actor.must_change_password, "done": False}
    if request.method == "GET":
        return platform.render(request, "password.html", context)
    form = await request.form()
    current = str(form.get("current", ""))[:256]
    new = str(form.get("new", ""))[:256]
    repeat = str(form.get("repeat", ""))[:256]
    kernel = _kernel(request)

    def change() -> dict[str, str]:
        with Session(kernel.engine) as session:
            errors = change_password(
                session,
                actor,
                current=current,
                new=new,
                repeat=repeat,
                keep_cookie=request.cookies.get(SESSION_COOKIE, ""),
            )
            session.commit()
            return errors

    try:
        errors = await run_in_threadpool(change)
    except TooManyAttempts as exc:
        errors = {"current": exc.message}
        page = platform.render(
            request, "password.html", {**context, "errors": errors}, status_code=429
        )
        page.headers["Retry-After"] = str(exc.retry_after)
        return page
    if errors:
        return platform.render(
            request, "password.html", {**context, "errors": errors}, status_code=422
        )
    return RedirectResponse("/", status_code=303)


async def grant_page(request: Request) -> Response:
    """List the user's grants (GET) or switch the session to one of them (POST)."""
    platform = platform_from_request(request)
    actor = request_actor(request)
    if actor is None:
        return RedirectResponse("/login?next=/account/grant", status_code=303)
    kernel = _kernel(request)

    def grants() -> list[tuple[Grant, OrgUnit]]:
        with Session(kernel.engine) as session:
            return own_grants(session, actor)

    if request.method == "GET":
        rows = await run_in_threadpool(grants)
        roles = kernel.permissions.roles
        english = language_of(request) == "en"
        choices = [
            {
                "id": g.id,
                "role": _role_title(roles[g.role], english) if g.role in roles else g.role,
                "unit": u.name,
                "current": g.id == actor.grant_id,
            }
            for g, u in rows
        ]
        return platform.render(request, "grant.html", {"choices": choices})
    form = await request.form()
    wanted = form_int(form, "grant_id", -1, low=-1)
    cookie = request.cookies.get(SESSION_COOKIE, "")

    def switch() -> None:
        with Session(kernel.engine) as session:
            switch_grant(session, actor, wanted, cookie)
            session.commit()

    await run_in_threadpool(switch)
    return RedirectResponse("/", status_code=303)


ROUTES: list[BaseRoute] = [
    Route("/login", login_page, methods=["GET", "POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/account/password", password_page, methods=["GET", "POST"]),
    Route("/account/grant", grant_page, methods=["GET", "POST"]),
]
