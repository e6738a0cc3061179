"""register_translations: a plugin's own catalogs, layered over the kernel's for that plugin only."""

from __future__ import annotations

import pytest
from shequyun_sdk import hookimpl, platform_from_request
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from ._plugins import MIGRATIONS, NOTICEBOARD, TEMPLATES, manifest, plugin_listing

LOCALE = NOTICEBOARD / "locale"


class Noticeboard:
    """Its ``board.html`` writes Chinese ids in ``_()``; its ``en`` catalog translates most."""

    MANIFEST = manifest("noticeboard", "社区公告")

    @hookimpl
    def register_templates(self, plugin):
        return TEMPLATES

    @hookimpl
    def register_translations(self, plugin):
        return LOCALE

    @hookimpl
    def register_routes(self, plugin):
        return [Route("/board", self.board), Route("/count", self.count)]

    async def board(self, request):
        notices = ["12月5日停水通知", "冬季消防安全提醒"]
        return platform_from_request(request).render(
            request, "noticeboard/board.html", {"committee": "康健", "notices": notices}
        )

    async def count(self, request):
        _ = platform_from_request(request).translator(request)
        return PlainTextResponse(f"{_('共 {count} 条公告', count=3)} · {_('首页')}")


class Parking:
    """Another plugin writing the same message id: the notice board's catalog is not its own."""

    MANIFEST = manifest("parking", "停车管理")

    def __init__(self, templates):
        self.templates = templates

    @hookimpl
    def register_templates(self):
        return self.templates

    @hookimpl
    def register_routes(self):
        return [Route("/", self.index)]

    async def index(self, request):
        return platform_from_request(request).render(request, "parking/index.html")


class FileNotDirectory:
    MANIFEST = manifest("deliberation", "议事厅")

    @hookimpl
    def register_translations(self):
        return MIGRATIONS / "0001_notices.py"


class MalformedCatalog:
    MANIFEST = manifest("eldercare", "养老顾问")

    @hookimpl
    def register_translations(self):
        return NOTICEBOARD / "broken_locale"


class Broken:
    MANIFEST = manifest("weather", "天气提示")

    @hookimpl
    def register_translations(self):
        raise OSError("语言包目录无法读取")


@pytest.fixture
def shequyun_plugins(tmp_path):
    templates = tmp_path / "parking-templates"
    templates.mkdir()
    (templates / "index.html").write_text(
        '{% extends "base.html" %}{% block content %}'
        "<h1>{{ _('公告栏') }}</h1><p>{{ _('首页') }}</p>{% endblock %}",
        encoding="utf-8",
    )
    return [Noticeboard(), Parking(templates), FileNotDirectory(), MalformedCatalog(), Broken()]


def english(client):
    client.cookies.set("shequyun_lang", "en")
    return client


def test_the_plugin_page_is_chinese_by_default(shequyun_client):
    page = shequyun_client.get("/plugins/noticeboard/board")
    assert page.status_code == 200
    assert "<title>公告栏 · 社区云</title>" in page.text
    assert "<h1>康健公告栏</h1>" in page.text
    assert '<p class="count">共 2 条公告</p>' in page.text


def test_in_english_the_plugin_catalog_translates_its_page(shequyun_client):
    page = english(shequyun_client).get("/plugins/noticeboard/board")
    assert "<title>Notice board · Community Cloud</title>" in page.text
    assert "<h1>Notice board of 康健</h1>" in page.text
    assert '<p class="count">2 notices</p>' in page.text


def test_a_message_the_plugin_does_not_translate_falls_back_to_the_kernel_then_the_id(
    shequyun_client,
):
    page = english(shequyun_client).get("/plugins/noticeboard/board")
    assert '<p class="back"><a href="/">Home</a></p>' in page.text  # the kernel's "首页"
    # Fuzzy entries do not count: the Chinese id is shown as written.
    assert '<p class="untranslated">张贴须经居委会同意</p>' in page.text


def test_the_plugin_wins_in_its_own_templates_but_never_in_the_kernels(shequyun_client):
    client = english(shequyun_client)
    board = client.get("/plugins/noticeboard/board").text
    assert '<p class="login">Sign in to post notices</p>' in board
    # The shell around the plugin's page is the kernel's base.html: the kernel's wording.
    assert '<a class="staff-login" href="/login">Staff login</a>' in board
    home = client.get("/").text
    assert '<a class="staff-login" href="/login">Staff login</a>' in home
    assert "Sign in to post notices" not in home


def test_one_plugin_cannot_translate_another_plugins_strings(shequyun_client):
    page = english(shequyun_client).get("/plugins/parking/")
    assert "<h1>公告栏</h1>" in page.text  # the notice board's "Notice board" stays its own
    assert "<p>Home</p>" in page.text  # the kernel's catalog still helps


def test_python_code_translates_with_the_requests_language(shequyun_client):
    assert shequyun_client.get("/plugins/noticeboard/count").text == "共 3 条公告 · 首页"
    english(shequyun_client)
    assert shequyun_client.get("/plugins/noticeboard/count").text == "3 notices · Home"


def test_a_hook_outside_the_plugins_routes_names_its_plugin(shequyun_client):
    platform = shequyun_client.app.state.platform
    request = Request({"type": "http", "headers": [(b"cookie", b"shequyun_lang=en")]})
    _ = platform.translator(request, platform.plugin("noticeboard"))
    assert _("已张贴") == "Posted"
    assert platform.translator(request)("已张贴") == "已张贴"  # no plugin: the kernel's only
    assert platform.translator(request)("工作人员登录") == "Staff login"


def test_a_path_that_is_not_a_directory_fails_the_plugin(shequyun_client):
    deliberation = plugin_listing(shequyun_client)["deliberation"]
    assert deliberation["state"] == "failed"
    assert "register_translations returned" in deliberation["reason"]
    assert "which is not a directory" in deliberation["reason"]


def test_a_malformed_catalog_fails_the_plugin_at_start_up(shequyun_client):
    eldercare = plugin_listing(shequyun_client)["eldercare"]
    assert eldercare["state"] == "failed"
    assert "register_translations: unreadable catalog" in eldercare["reason"]
    assert "en/LC_MESSAGES/noticeboard.po" in eldercare["reason"]


def test_a_raising_register_translations_fails_only_that_plugin(shequyun_client):
    weather = plugin_listing(shequyun_client)["weather"]
    assert weather["state"] == "failed"
    assert "hook register_translations raised OSError: 语言包目录无法读取" in weather["reason"]
    assert english(shequyun_client).get("/plugins/noticeboard/board").status_code == 200
