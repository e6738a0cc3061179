"""Request glue for the portal pages: the guard, forms with files, rendering, redirects."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import quote

from shequyun_sdk import (
    Actor,
    ApiError,
    ValidationFailed,
    actor_from_request,
    platform_from_request,
    plugin_from_request,
    requires,
)
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from .core import DISPATCH, HANDLE, LOG, MANAGE, PUBLISH, VIEW
from .files import Upload

__all__ = [
    "actor_of",
    "form_errors",
    "form_with_files",
    "redirect",
    "render",
    "run",
    "staff_page",
]

T = TypeVar("T")
Handler = TypeVar("Handler", bound=Callable[..., Awaitable[Response]])


def staff_page(permission: str) -> Callable[[Handler], Handler]:
    """Guard a page: anonymous visitors go to the login page, then :func:`requires`."""

    def decorate(handler: Handler) -> Handler:
        guarded = requires(permission)(handler)

        @functools.wraps(handler)
        async def page(request: Request) -> Response:
            if actor_from_request(request) is None:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
            return await guarded(request)

        return page  # type: ignore[return-value]

    return decorate


def actor_of(request: Request) -> Actor:
    """The actor of a request that ``requires()`` or :func:`staff_page` let through."""
    actor = actor_from_request(request)
    assert actor is not None
    return actor


async def run(work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    return await run_in_threadpool(work, *args, **kwargs)


async def form_with_files(
    request: Request, field: str = "photos", max_files: int = 6
) -> tuple[dict[str, Any], list[Upload]]:
    """The posted form (repeated fields as lists) and the files sent under ``field``."""
    values: dict[str, Any] = {}
    uploads: list[Upload] = []
    try:
        async with request.form(max_files=2 * max_files + 2, max_fields=100) as form:
            for key in form:
                if key == "csrf_token":
                    continue
                items = []
                for item in form.getlist(key):
                    if isinstance(item, UploadFile):
                        data = await item.read() if key == field else b""
                        if data:
                            uploads.append(Upload(item.filename or "", data))
                    else:
                        items.append(item)
                if items:
                    values[key] = items if len(items) > 1 else items[0]
    except HTTPException as exc:
        raise ValidationFailed(f"上传的表单无法读取：{exc.detail}", field=field) from exc
    if len(uploads) > max_files:
        raise ValidationFailed(f"最多上传 {max_files} 个文件", field=field)
    return values, uploads


def form_errors(exc: ApiError) -> dict[str, str]:
    """``{field: message}`` for showing a refused form next to its fields."""
    errors: dict[str, str] = {}
    for detail in exc.details:
        errors.setdefault(detail.get("field", "_form").split("[", 1)[0], detail["message"])
    if not errors:
        errors[(exc.field or "_form").split("[", 1)[0]] = exc.message
    return errors


def redirect(request: Request, path: str) -> Response:
    return RedirectResponse(plugin_from_request(request).url(path), status_code=303)


def render(
    request: Request, template: str, context: Mapping[str, Any], *, status_code: int = 200
) -> Response:
    platform = platform_from_request(request)
    plugin = plugin_from_request(request)
    actor = actor_from_request(request)
    can = {}
    if actor is not None:
        can = {
            name: actor.has(permission)
            for name, permission in (
                ("view", VIEW),
                ("log", LOG),
                ("handle", HANDLE),
                ("dispatch", DISPATCH),
                ("publish", PUBLISH),
                ("manage", MANAGE),
            )
        }
    values = {"u": plugin.url, "static": plugin.static_url, "can": can, **context}
    return platform.render(request, f"governance/{template}", values, status_code=status_code)
