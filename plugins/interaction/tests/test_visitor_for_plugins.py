"""Another plugin asks who the visitor is (``platform.visitor``, SDK 1.4): the resident 居社互动
signed in, with the register's resident and committee once verified, and nobody for an
anonymous visitor or a staff user."""

from __future__ import annotations

import pytest
from shequyun_sdk import hookimpl, platform_from_request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from .conftest import PASSWORD, WEIFANG1
from .test_pages import BASE, resident_browser, submit


async def whoami(request):
    visitor = platform_from_request(request).visitor(request)
    if visitor is None:
        return JSONResponse(None)
    committee = visitor.committee.code if visitor.committee is not None else None
    return JSONResponse(
        {"name": visitor.name, "resident_id": visitor.resident_id, "committee": committee}
    )


class Meals:
    """A district app with a page for residents (老年助餐's 我的用餐, reduced to who asks)."""

    MANIFEST = {
        "name": "meals",
        "version": "0.1.0",
        "title": {"zh": "老年助餐"},
        "description": {"zh": "老年人助餐服务（测试插件）"},
        "sdk": ">=1.4,<2",
    }

    @hookimpl
    def register_routes(self, plugin):
        return [Route("/mine", whoami)]


@pytest.fixture
def shequyun_plugins():
    return [Meals()]


def test_a_plugin_learns_which_verified_resident_is_signed_in(town, shequyun_actors):
    anonymous = TestClient(town.client.app)
    assert anonymous.get("/plugins/meals/mine").json() is None

    wang = town.resident("王秀英")
    unverified = TestClient(town.client.app)
    signed = submit(
        unverified,
        f"{BASE}/signup",
        {"phone": wang.phone, "password": PASSWORD, "password2": PASSWORD},
    )
    assert signed.status_code == 303
    seen = unverified.get("/plugins/meals/mine").json()
    assert seen["resident_id"] is None and seen["committee"] is None  # not proven yet
    assert "未核验" in seen["name"]

    li = town.resident("李建国")
    verified = resident_browser(town, li)
    assert verified.get("/plugins/meals/mine").json() == {
        "name": "李建国",
        "resident_id": li.id,
        "committee": WEIFANG1,
    }

    cadre = shequyun_actors.cadre(WEIFANG1).portal()
    assert cadre.get("/plugins/meals/mine").json() is None  # staff: their actor says who
