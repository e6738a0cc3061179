"""What every portal page needs: login, the actor, database work off the event loop, dates.

Page handlers are ``async`` and call :func:`db` for their database work, so the server stays
responsive; :func:`page` guards a handler (login required, optionally a permission) and turns an
anonymous visitor into a redirect to the login page.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any, TypeVar
from urllib.parse import quote

from shequyun_sdk import Forbidden
from shequyun_sdk.identity import Actor
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ..identity.auth import request_actor
from ..sessions import in_session

__all__ = ["SHANGHAI", "cn_date", "cn_datetime", "db", "kernel_of", "page", "render"]

#: Cadres read times in Beijing time.
SHANGHAI = timezone(timedelta(hours=8), "CST")

Handler = TypeVar("Handler", bound=Callable[..., Awaitable[Response]])


def kernel_of(request: Request) -> Any:
    return request.app.state.kernel


async def db(request: Request, work: Callable[[Session], Any], *, commit: bool = False) -> Any:
    """Run ``work(session)`` in a worker thread; commit afterwards when asked."""
    return await in_session(request, work, commit=commit)


def page(permission: str | None = None) -> Callable[[Handler], Handler]:
    """Guard a portal page: log in first (redirect), then hold ``permission`` (403 page)."""

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def guarded(request: Request) -> Response:
            actor = request_actor(request)
            if actor is None:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
            if permission is not None and not actor.has(permission):
                request.app.state.platform.audit_denial(request, actor, permission)
                raise Forbidden("您没有权限访问此页面")
            return await handler(request)

        return guarded  # type: ignore[return-value]

    return decorate


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> Response:
    response: Response = request.app.state.platform.render(
        request, template, context, status_code=status_code
    )
    return response


def actor_of(request: Request) -> Actor:
    actor = request_actor(request)
    assert actor is not None, "use @page() first"
    return actor


def cn_date(value: date | datetime | str | None, language: str = "zh_CN") -> str:
    """``2026年11月27日`` (times are shown in Beijing time); ``27 Nov 2026`` in English."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
        except ValueError:
            return str(value)
    if isinstance(value, datetime):
        value = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(SHANGHAI).date()
    if language == "en":
        return f"{value.day} {_MONTHS[value.month - 1]} {value.year}"
    return f"{value.year}年{value.month}月{value.day}日"


def cn_datetime(value: datetime | str | None, language: str = "zh_CN") -> str:
    """``2026年11月27日 14:05`` in Beijing time; ``27 Nov 2026 14:05`` in English."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return str(value)
    local = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(SHANGHAI)
    return f"{cn_date(local.date(), language)} {local:%H:%M}"


#: English month names, written out here so that no process locale changes them.
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
