"""Default plugin ``home``: the portal's landing page."""

from __future__ import annotations

from collections.abc import Sequence

from shequyun_sdk import NavEntry, PluginContext, hookimpl, platform_from_request
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

MANIFEST = {
    "name": "home",
    "version": "0.1.0",
    "title": {"zh": "首页", "en": "Home"},
    "description": {"zh": "门户首页", "en": "The portal's landing page"},
    "sdk": ">=0.1,<0.2",
}


@hookimpl
def register_routes(plugin: PluginContext) -> Sequence[BaseRoute]:
    return [Route("/", home)]


@hookimpl
def register_nav(plugin: PluginContext) -> Sequence[NavEntry]:
    return [NavEntry(label="首页", label_en="Home", href="/", order=0)]


async def home(request: Request) -> Response:
    return platform_from_request(request).render(request, "home.html")
