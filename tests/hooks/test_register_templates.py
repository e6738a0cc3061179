"""register_templates: a directory of Jinja2 templates, addressed as ``<plugin>/<file>``."""

from __future__ import annotations

import pytest
from shequyun_sdk import NavEntry, hookimpl, platform_from_request
from starlette.routing import Route

from ._plugins import MIGRATIONS, TEMPLATES, manifest, nav_links, plugin_listing


class Noticeboard:
    MANIFEST = manifest("noticeboard", "社区公告")

    @hookimpl
    def register_templates(self, plugin):
        return TEMPLATES

    @hookimpl
    def register_routes(self, plugin):
        return [Route("/", self.index)]

    @hookimpl
    def register_nav(self, plugin):
        return [NavEntry(label="社区公告", href=plugin.url("/"), order=10)]

    async def index(self, request):
        notices = ["12月5日停水通知", "冬季消防安全提醒"]
        return platform_from_request(request).render(
            request, "noticeboard/list.html", {"committee": "康健街道", "notices": notices}
        )


class FileNotDirectory:
    MANIFEST = manifest("deliberation", "议事厅")

    @hookimpl
    def register_templates(self):
        return MIGRATIONS / "0001_notices.py"


class BrokenTemplates:
    MANIFEST = manifest("parking", "停车管理")

    @hookimpl
    def register_templates(self):
        raise OSError("模板目录无法读取")


@pytest.fixture
def shequyun_plugins():
    return [Noticeboard(), FileNotDirectory(), BrokenTemplates()]


def test_plugin_pages_render_its_templates_inside_the_portal_shell(shequyun_client):
    page = shequyun_client.get("/plugins/noticeboard/")
    assert page.status_code == 200
    assert "<title>社区公告 · 社区云</title>" in page.text
    assert "<h1>康健街道公告栏</h1>" in page.text
    assert "<li>12月5日停水通知</li>" in page.text
    assert ("社区公告", "/plugins/noticeboard/") in nav_links(page.text)


def test_a_path_that_is_not_a_directory_fails_the_plugin(shequyun_client):
    deliberation = plugin_listing(shequyun_client)["deliberation"]
    assert deliberation["state"] == "failed"
    assert "register_templates returned" in deliberation["reason"]
    assert "which is not a directory" in deliberation["reason"]


def test_a_raising_register_templates_fails_only_that_plugin(shequyun_client):
    parking = plugin_listing(shequyun_client)["parking"]
    assert parking["state"] == "failed"
    assert "hook register_templates raised OSError: 模板目录无法读取" in parking["reason"]
    assert shequyun_client.get("/").status_code == 200
