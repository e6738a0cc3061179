"""Default plugin ``openapi``: the OpenAPI document of ``/api/v1`` at ``/api/v1/openapi.json``.

The document is built on each request from the routes being served, so a plugin that fails
after start-up drops out of it as its routes start answering 404.
"""

from __future__ import annotations

from collections.abc import Sequence

from shequyun_sdk import PluginContext, hookimpl
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ..openapi import build_document, describe
from ..release import VERSION

MANIFEST = {
    "name": "openapi",
    "version": VERSION,
    "title": {"zh": "接口文档", "en": "API description"},
    "description": {
        "zh": "由实际挂载的路由生成的 OpenAPI 3.1 文档",
        "en": "OpenAPI 3.1 document generated from the mounted routes",
    },
    "sdk": ">=1.0,<2",
}


@describe(
    security=[],
    responses={
        "200": {
            "description": "OpenAPI 3.1 文档",
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
)
async def openapi_json(request: Request) -> Response:
    """The OpenAPI 3.1 document of every /api/v1 route, the plugins' included.

    Public: it describes the API, not its data. Generated from the routes being served.
    """
    return JSONResponse(build_document(request.app))


@hookimpl
def register_api_routes(plugin: PluginContext) -> Sequence[BaseRoute]:
    return [Route("/openapi.json", openapi_json, methods=["GET"])]
