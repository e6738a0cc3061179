"""``requires()``: the route guard of the SDK, and the actor it hands to the endpoint."""

from __future__ import annotations

import pytest
from shequyun_sdk import hookimpl, requires
from shequyun_sdk.web import JSONResponse
from starlette.routing import Route

from .hooks._plugins import manifest


@requires("residents.read")
async def who_am_i(request, actor):
    return JSONResponse({"username": actor.username, "unit": actor.unit.code})


@requires()
async def anyone_logged_in(request):
    return JSONResponse({"ok": True})


class Whoami:
    MANIFEST = manifest("whoami", "我是谁")

    @hookimpl
    def register_api_routes(self):
        return [Route("/me", who_am_i), Route("/ping", anyone_logged_in)]


@pytest.fixture
def shequyun_plugins():
    return [Whoami()]


def test_an_endpoint_naming_actor_receives_the_checked_actor(shequyun_client, shequyun_actors):
    cadre = shequyun_actors.cadre("310115004001")
    answer = cadre.client().get("/api/v1/plugins/whoami/me")
    assert answer.json() == {"username": cadre.username, "unit": "310115004001"}


def test_an_endpoint_without_actor_is_called_as_before(shequyun_client, shequyun_actors):
    assert shequyun_client.get("/api/v1/plugins/whoami/ping").status_code == 401
    assert shequyun_actors.cadre().client().get("/api/v1/plugins/whoami/ping").json() == {
        "ok": True
    }
