"""register_static: a directory of files served at ``/static/plugins/<name>/``."""

from __future__ import annotations

import pytest
from shequyun_sdk import hookimpl, plugin_from_request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from ._plugins import MIGRATIONS, STATIC, manifest, plugin_listing


class Noticeboard:
    MANIFEST = manifest("noticeboard", "社区公告")

    @hookimpl
    def register_static(self, plugin):
        return STATIC

    @hookimpl
    def register_routes(self, plugin):
        return [Route("/stylesheet", self.stylesheet)]

    async def stylesheet(self, request):
        return PlainTextResponse(plugin_from_request(request).static_url("notice.css"))


class Eldercare:
    """Serves its files, then fails at start-up: the files must go with it."""

    MANIFEST = manifest("eldercare", "养老顾问")

    @hookimpl
    def register_static(self):
        return str(STATIC)

    @hookimpl
    def on_startup(self):
        raise RuntimeError("养老服务点数据缺失")


class FileNotDirectory:
    MANIFEST = manifest("deliberation", "议事厅")

    @hookimpl
    def register_static(self):
        return MIGRATIONS / "0001_notices.py"


@pytest.fixture
def shequyun_plugins():
    return [Noticeboard(), Eldercare(), FileNotDirectory()]


def test_files_are_served_under_the_plugin_static_url(shequyun_client):
    url = shequyun_client.get("/plugins/noticeboard/stylesheet").text
    assert url == "/static/plugins/noticeboard/notice.css"
    response = shequyun_client.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")
    assert "社区公告栏的样式" in response.text


def test_a_missing_file_is_a_404(shequyun_client):
    assert shequyun_client.get("/static/plugins/noticeboard/missing.css").status_code == 404


def test_files_of_a_failed_plugin_are_no_longer_served(shequyun_client):
    assert plugin_listing(shequyun_client)["eldercare"]["state"] == "failed"
    assert shequyun_client.get("/static/plugins/eldercare/notice.css").status_code == 404


def test_a_path_that_is_not_a_directory_fails_the_plugin(shequyun_client):
    deliberation = plugin_listing(shequyun_client)["deliberation"]
    assert deliberation["state"] == "failed"
    assert "register_static returned" in deliberation["reason"]
    assert "which is not a directory" in deliberation["reason"]
    assert shequyun_client.get("/static/plugins/deliberation/0001_notices.py").status_code == 404


class TestAPluginOffByDefault:
    """A district app switched on only where an administrator says: its pages are not served
    to a cadre elsewhere, its files (no data, no unit in the URL) are served to anyone."""

    class Garbage:
        MANIFEST = manifest("garbage", "垃圾分类", enabled_by_default=False)

        @hookimpl
        def register_static(self):
            return STATIC

        @hookimpl
        def register_routes(self):
            return [Route("/", lambda request: PlainTextResponse("打卡"))]

    @pytest.fixture
    def shequyun_plugins(self):
        return [self.Garbage()]

    def test_its_files_are_served_where_its_pages_are_not(self, shequyun_client, shequyun_actors):
        cadre = shequyun_actors.cadre("310115004001").client()
        assert cadre.get("/plugins/garbage/").status_code == 404
        assert cadre.get("/static/plugins/garbage/notice.css").status_code == 200
        assert shequyun_client.get("/static/plugins/garbage/notice.css").status_code == 200
