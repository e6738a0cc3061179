"""Default plugin ``kernel``: the kernel's tables, migrations and the plugin listing API."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from shequyun_sdk import PluginContext, hookimpl
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from ..events import EventDelivery, OutboxEvent

MANIFEST = {
    "name": "kernel",
    "version": "0.1.0",
    "title": {"zh": "平台内核", "en": "Platform kernel"},
    "description": {
        "zh": "身份、居民数据与一键采集的基础",
        "en": "Identity, resident data and collection",
    },
    "sdk": ">=0.1,<0.2",
}


@hookimpl
def register_models(plugin: PluginContext) -> Sequence[type]:
    return [OutboxEvent, EventDelivery]


@hookimpl
def register_migrations(plugin: PluginContext) -> Path:
    return Path(__file__).parent.parent / "migrations" / "versions"


@hookimpl
def register_api_routes(plugin: PluginContext) -> Sequence[BaseRoute]:
    return [Route("/plugins", list_plugins, methods=["GET"])]


async def list_plugins(request: Request) -> JSONResponse:
    """Every plugin the kernel was offered, with its state and, when failed, the reason."""
    kernel = request.app.state.kernel
    return JSONResponse(
        {
            "plugins": [
                {
                    "name": record.name,
                    "version": record.version,
                    "title": record.title,
                    "state": record.state.value,
                    "reason": record.reason,
                    "origin": record.origin,
                    "builtin": record.builtin,
                }
                for record in kernel.host.records.values()
            ]
        }
    )
