"""The route walk of ``test_every_route_is_walked`` sees a plugin's routes, which the platform
mounts inside the plugin's guard, as well as the kernel's."""

from __future__ import annotations

import pytest
from shequyun_sdk import hookimpl
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from .test_every_route_is_walked import routes


async def _noted(request):
    return PlainTextResponse("ok")


class Notes:
    MANIFEST = {
        "name": "notes",
        "version": "0.1",
        "title": {"zh": "便签"},
        "description": {"zh": "测试插件"},
        "sdk": ">=1.0,<2",
    }

    @hookimpl
    def register_routes(self, plugin):
        return [Route("/new", _noted, methods=["POST"])]

    @hookimpl
    def register_api_routes(self, plugin):
        return [Route("/notes/{note_id:int}", _noted, methods=["DELETE"])]


@pytest.fixture
def shequyun_plugins():
    return [Notes()]


def test_the_walk_sees_a_plugins_routes(shequyun_app):
    walked = set(routes(shequyun_app.routes))
    assert {"POST /plugins/notes/new", "DELETE /api/v1/plugins/notes/notes/{note_id:int}"} <= walked
    assert "POST /api/v1/residents" in walked
