"""Default plugin ``home``: the portal's landing page."""

from __future__ import annotations

from collections.abc import Sequence

from shequyun_sdk import NavEntry, NotFound, PluginContext, hookimpl, platform_from_request
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from ..display import DISPLAY_COOKIE, MODES, DisplayPreference
from ..i18n import LANGUAGE_COOKIE, language_of_tag
from ..identity.auth import request_actor
from ..release import VERSION

MANIFEST = {
    "name": "home",
    "version": VERSION,
    "title": {"zh": "首页", "en": "Home"},
    "description": {"zh": "门户首页", "en": "The portal's landing page"},
    "sdk": ">=1.0,<2",
}


@hookimpl
def register_routes(plugin: PluginContext) -> Sequence[BaseRoute]:
    return [
        Route("/", home),
        Route("/lang/{language}", choose_language),
        Route("/display/{mode}", choose_display, methods=["GET", "POST"]),
    ]


@hookimpl
def register_models(plugin: PluginContext) -> Sequence[type]:
    return [DisplayPreference]


@hookimpl
def register_nav(plugin: PluginContext) -> Sequence[NavEntry]:
    return [NavEntry(label="首页", label_en="Home", href="/", order=0)]


async def home(request: Request) -> Response:
    """Staff land on their workbench; visitors see the public home page."""
    actor = request_actor(request)
    if actor is not None and actor.unit is not None:
        return RedirectResponse("/workbench", status_code=303)
    return platform_from_request(request).render(request, "home.html")


async def choose_language(request: Request) -> Response:
    """Remember the visitor's language in a cookie and go back where they were. Any tag of an
    offered language will do: ``/lang/zh``, ``/lang/zh-CN``, ``/lang/zh_CN``, ``/lang/en``."""
    language = language_of_tag(request.path_params["language"])
    if language is None:
        raise NotFound("不支持该语言：门户提供中文（/lang/zh）和英文（/lang/en）")
    target = request.query_params.get("next", "/")
    if not target.startswith("/") or target.startswith("//"):
        target = "/"
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        LANGUAGE_COOKIE, language, max_age=365 * 86400, httponly=True, samesite="lax"
    )
    return response


async def choose_display(request: Request) -> Response:
    """大字模式 on (``/display/large``) or off (``/display/normal``), then back where the
    visitor was. Remembered in a cookie for a year; posted (the header's button, with the page's
    CSRF token) by someone signed in — a staff user, or a visitor a plugin names with an
    ``account_key`` — it is also kept with their account and follows them to other browsers.
    A plain GET (an old link) sets the cookie only: a link elsewhere cannot change an account."""
    mode = request.path_params["mode"]
    if mode not in MODES:
        raise NotFound("显示方式只有 large（大字模式）和 normal（标准）")
    target = request.query_params.get("next", "/")
    if request.method == "POST":
        form = await request.form()
        target = str(form.get("next") or target)
        renderer = request.app.state.renderer
        actor = request_actor(request)
        key = renderer.display_key(actor, renderer.visitor(request) if actor is None else None)
        if key is not None and renderer.display is not None:
            await run_in_threadpool(renderer.display.remember, key, mode)
    if not target.startswith("/") or target.startswith("//"):
        target = "/"
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(DISPLAY_COOKIE, mode, max_age=365 * 86400, httponly=True, samesite="lax")
    return response
