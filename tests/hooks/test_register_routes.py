"""register_routes: a plugin's portal pages, mounted under ``/plugins/<name>/``."""

from __future__ import annotations

import pytest
from shequyun_sdk import NotFound, hookimpl, plugin_from_request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from ._plugins import manifest, plugin_listing


class Noticeboard:
    """社区公告: a list page and one page per notice."""

    MANIFEST = manifest("noticeboard", "社区公告")

    @hookimpl
    def register_routes(self, plugin):
        return [Route("/", self.index), Route("/{notice_id:int}", self.notice)]

    async def index(self, request):
        plugin = plugin_from_request(request)
        return HTMLResponse(f"<h1>社区公告</h1><p>{plugin.name} 挂载于 {plugin.url('/')}</p>")

    async def notice(self, request):
        if request.path_params["notice_id"] == 500:
            raise RuntimeError("公告数据损坏")
        raise NotFound("没有这条公告")


class BrokenRoutes:
    MANIFEST = manifest("deliberation", "议事厅")

    @hookimpl
    def register_routes(self):
        raise RuntimeError("议事厅路由配置缺失")


class NotRoutes:
    MANIFEST = manifest("garbage_sorting", "垃圾分类")

    @hookimpl
    def register_routes(self):
        return ["/投放点"]


@pytest.fixture
def shequyun_plugins():
    return [Noticeboard(), BrokenRoutes(), NotRoutes()]


def test_pages_are_mounted_under_the_plugin_mount(shequyun_client):
    page = shequyun_client.get("/plugins/noticeboard/")
    assert page.status_code == 200
    assert "noticeboard 挂载于 /plugins/noticeboard/" in page.text


def test_plugin_routes_do_not_shadow_the_portal(shequyun_client):
    assert "上海社区治理平台" in shequyun_client.get("/").text
    assert shequyun_client.get("/5").status_code == 404


def test_an_api_error_in_a_page_is_shown_as_the_portal_error_page(shequyun_client):
    page = shequyun_client.get("/plugins/noticeboard/7")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "没有这条公告" in page.text
    assert "返回首页" in page.text


def test_an_unhandled_error_in_a_page_is_a_500_error_page(shequyun_client, caplog):
    page = shequyun_client.get("/plugins/noticeboard/500")
    assert page.status_code == 500
    assert page.headers["content-type"].startswith("text/html")
    assert "系统内部错误" in page.text
    assert "公告数据损坏" not in page.text  # internals stay in the log
    assert any("plugin noticeboard" in r.getMessage() for r in caplog.records)


def test_a_raising_register_routes_fails_only_that_plugin(shequyun_client):
    deliberation = plugin_listing(shequyun_client)["deliberation"]
    assert deliberation["state"] == "failed"
    assert "register_routes" in deliberation["reason"]
    assert "议事厅路由配置缺失" in deliberation["reason"]
    assert shequyun_client.get("/plugins/deliberation/").status_code == 404
    assert shequyun_client.get("/healthz").json() == {"status": "ok"}
    assert shequyun_client.get("/plugins/noticeboard/").status_code == 200


def test_returning_something_else_than_routes_fails_the_plugin(shequyun_client):
    garbage_sorting = plugin_listing(shequyun_client)["garbage_sorting"]
    assert garbage_sorting["state"] == "failed"
    assert "register_routes must return a list of Starlette routes" in garbage_sorting["reason"]
