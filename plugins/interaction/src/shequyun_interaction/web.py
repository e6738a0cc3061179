"""Request glue shared by the pages and the API: who the viewer is, forms, cookies, errors.

Residents sign in to the portal with their own cookie (``shequyun_resident``), distinct from the
kernel's staff session; the mobile app sends ``X-Resident-Token`` instead (a header, so that no
browser sends it on its own and the API needs no CSRF token). A cadre in assisted mode carries
the ``shequyun_assist`` cookie (portal) or ``X-Assist-Resident: <resident id>`` (API) on top of
their own staff login; assistance is re-checked against their grant on every request.

A verified resident whose committee has the plugin switched off is refused everything but the
public pages (:mod:`.availability`): :func:`viewer_of` checks it unless told ``public=True``.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import quote

from shequyun_sdk import (
    ApiError,
    NotFound,
    Platform,
    PluginContext,
    ValidationFailed,
    actor_from_request,
    platform_from_request,
    plugin_from_request,
    read_json,
    requires,
)
from shequyun_sdk.params import header_int
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from . import accounts, assisting
from .availability import is_open, refuse_resident
from .core import Viewer
from .files import Upload

__all__ = [
    "ASSIST_COOKIE",
    "RESIDENT_COOKIE",
    "client_address",
    "form_errors",
    "form_values",
    "form_with_files",
    "is_multipart",
    "redirect",
    "set_cookie",
    "signups_per_hour",
    "viewer_of",
]

RESIDENT_COOKIE = "shequyun_resident"
ASSIST_COOKIE = "shequyun_assist"
TOKEN_HEADER = "x-resident-token"
ASSIST_HEADER = "x-assist-resident"

T = TypeVar("T")

#: Where a page keeps its viewer, so that the portal's header (``visitor_from_request``) does not
#: look the resident up a second time.
VIEWER_SCOPE_KEY = "interaction.viewer"


async def viewer_of(request: Request, *, api: bool = False, public: bool = False) -> Viewer:
    """The resident-side viewer of ``request``, placement read afresh.

    Unless ``public``, a verified resident (or a cadre assisting one) whose committee has the
    plugin switched off is refused: 403 "本社区未开通居社互动".
    """
    platform = platform_from_request(request)
    plugin_name = plugin_from_request(request).name
    actor = actor_from_request(request)
    assist_header = request.headers.get(ASSIST_HEADER) if api else None
    assist_cookie = None if api else request.cookies.get(ASSIST_COOKIE)
    token = request.headers.get(TOKEN_HEADER) if api else request.cookies.get(RESIDENT_COOKIE)

    def work() -> Viewer:
        with platform.session() as session:
            if actor is not None and (assist_header or assist_cookie):
                if api:
                    try:
                        target = header_int(request, ASSIST_HEADER, low=1)
                    except ValidationFailed:
                        target = None
                else:
                    target = assisting.assist_target(session, actor, assist_cookie)
                if target is not None:
                    ref = assisting.assisted_resident(platform, session, actor, target)
                    if ref is not None:
                        return Viewer(None, ref, actor)
                if api:
                    raise NotFound("找不到要代办的居民", field=ASSIST_HEADER)
            account = accounts.account_for_token(session, token, "api" if api else "cookie")
            return accounts.viewer_for(platform, session, account)

    viewer = await run_in_threadpool(work)
    if not api:
        request.scope[VIEWER_SCOPE_KEY] = viewer
    home = viewer.resident.committee if viewer.resident is not None else None
    if (
        not public
        and home is not None
        and not await run_in_threadpool(is_open, platform, plugin_name, home)
    ):
        raise refuse_resident(home)
    return viewer


Handler = TypeVar("Handler", bound=Callable[..., Awaitable[Response]])


def staff_page(permission: str) -> Callable[[Handler], Handler]:
    """Guard a cadre page: anonymous visitors go to the login page, then :func:`requires`."""

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


async def json_object(request: Request) -> dict[str, Any]:
    """The request's JSON body, which must be an object (422 otherwise)."""
    body = await read_json(request)
    if not isinstance(body, dict):
        raise ValidationFailed("请求内容应为 JSON 对象", field="(body)")
    return body


async def run(work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    return await run_in_threadpool(work, *args, **kwargs)


async def form_values(request: Request) -> dict[str, Any]:
    """The posted form as a dict; repeated fields (checkboxes) become lists."""
    form = await request.form()
    values: dict[str, Any] = {}
    for key in form:
        if key == "csrf_token":
            continue
        items = [str(v) for v in form.getlist(key)]
        values[key] = items if len(items) > 1 or key.endswith("[]") else items[0]
    return {k.removesuffix("[]"): v for k, v in values.items()}


def is_multipart(request: Request) -> bool:
    return request.headers.get("content-type", "").startswith("multipart/form-data")


async def form_with_files(
    request: Request, field: str, max_files: int
) -> tuple[dict[str, Any], list[Upload]]:
    """The posted form as :func:`form_values` gives it, and the files sent under ``field``.

    File inputs left empty are skipped. More than ``max_files`` files, or a form that cannot be
    read, are refused naming ``field`` (the platform already bounds the body's size).
    """
    values: dict[str, Any] = {}
    uploads: list[Upload] = []
    try:
        # An empty file input still sends a part, so the parser may see a few more.
        async with request.form(max_files=2 * max_files + 2, max_fields=200) as form:
            for key in form:
                if key == "csrf_token":
                    continue
                items = []
                for item in form.getlist(key):
                    if isinstance(item, UploadFile):
                        data = await item.read() if key == field else b""
                        if data or (key == field and item.filename):
                            uploads.append(Upload(item.filename or "", data))
                    else:
                        items.append(item)
                if items:
                    values[key] = items if len(items) > 1 or key.endswith("[]") else items[0]
    except HTTPException as exc:
        raise ValidationFailed(
            f"上传的表单无法读取（最多 {max_files} 个文件）：{exc.detail}", field=field
        ) from exc
    if len(uploads) > max_files:
        raise ValidationFailed(f"最多上传 {max_files} 个文件", field=field, code="too_many_files")
    return {k.removesuffix("[]"): v for k, v in values.items()}, uploads


def form_errors(exc: ApiError) -> dict[str, str]:
    """``{field: message}`` for re-rendering a form next to its fields."""
    errors: dict[str, str] = {}
    for detail in exc.details:
        # ``attachments[2]`` is shown next to the form's ``attachments``.
        field = detail.get("field", "_form").split("[", 1)[0]
        errors.setdefault(field, detail.get("message", exc.message))
    if not errors:
        errors[(exc.field or "_form").split("[", 1)[0]] = exc.message
    return errors


def client_address(request: Request) -> str | None:
    """The client's address, as the platform established it (forwarded headers are only
    believed from its configured proxies): the key of the per-address attempt limits."""
    return request.client.host if request.client else None


def signups_per_hour(request: Request) -> int:
    """Sign-ups one address may make an hour (setting ``signups_per_address_hour``)."""
    setting = plugin_from_request(request).settings.get("signups_per_address_hour")
    return int(setting) if setting else accounts.SIGNUPS_PER_ADDRESS_HOUR


def redirect(request: Request, path: str) -> Response:
    return RedirectResponse(plugin_from_request(request).url(path), status_code=303)


def set_cookie(
    request: Request, response: Response, name: str, value: str | None, max_age: int = 0
) -> None:
    if value is None:
        response.delete_cookie(name, path="/", httponly=True, samesite="lax")
        return
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def render(
    request: Request,
    template: str,
    viewer: Viewer | None,
    context: Mapping[str, Any],
    *,
    status_code: int = 200,
) -> Response:
    platform: Platform = platform_from_request(request)
    plugin: PluginContext = plugin_from_request(request)
    values = {"me": viewer, "u": plugin.url, "static": plugin.static_url, "unread": 0, **context}
    return platform.render(request, f"interaction/{template}", values, status_code=status_code)
