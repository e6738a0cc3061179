"""extra_template_vars: variables a plugin adds to every page the portal renders."""

from __future__ import annotations

import logging

import pytest
from shequyun_sdk import hookimpl, platform_from_request
from starlette.routing import Route

from ._plugins import TEMPLATES, manifest, plugin_listing


class Noticeboard:
    """Renders ``noticeboard/tips.html``, which shows ``weather_tip`` from another plugin."""

    MANIFEST = manifest("noticeboard", "社区公告")

    @hookimpl
    def register_templates(self, plugin):
        return TEMPLATES

    @hookimpl
    def register_routes(self, plugin):
        return [Route("/tips", self.tips), Route("/typhoon", self.typhoon)]

    async def tips(self, request):
        return platform_from_request(request).render(request, "noticeboard/tips.html")

    async def typhoon(self, request):
        # The page's own context wins over what plugins add.
        context = {"weather_tip": "台风橙色预警：请勿外出"}
        return platform_from_request(request).render(request, "noticeboard/tips.html", context)


class Weather:
    """天气提示: offers a tip to every page, and remembers which pages asked."""

    MANIFEST = manifest("weather", "天气提示")

    def __init__(self):
        self.calls = []

    @hookimpl
    def extra_template_vars(self, request, template):
        self.calls.append((request.url.path, template))
        return {"weather_tip": "今日有雷阵雨，请关好门窗"}


class Eldercare:
    """Contributes nothing to most pages: returning None is fine."""

    MANIFEST = manifest("eldercare", "养老顾问")

    @hookimpl
    def extra_template_vars(self, template):
        return {"hotline": "12345"} if template.startswith("eldercare/") else None


@pytest.fixture
def weather():
    return Weather()


@pytest.fixture
def shequyun_plugins(weather):
    return [Noticeboard(), weather, Eldercare()]


def test_variables_reach_the_templates_of_other_plugins(shequyun_client):
    page = shequyun_client.get("/plugins/noticeboard/tips")
    assert page.status_code == 200
    assert '<p class="tip">今日有雷阵雨，请关好门窗</p>' in page.text


def test_called_for_every_page_with_its_request_and_template(shequyun_client, weather):
    shequyun_client.get("/")
    shequyun_client.get("/plugins/noticeboard/tips")
    assert weather.calls == [
        ("/", "home.html"),
        ("/plugins/noticeboard/tips", "noticeboard/tips.html"),
    ]


def test_the_context_given_to_render_wins(shequyun_client):
    page = shequyun_client.get("/plugins/noticeboard/typhoon")
    assert "台风橙色预警：请勿外出" in page.text
    assert "雷阵雨" not in page.text


class TestWhenExtraTemplateVarsRaises:
    class Broken:
        MANIFEST = manifest("parking", "停车管理")

        @hookimpl
        def extra_template_vars(self, request):
            raise LookupError("停车位数据缺失")

    @pytest.fixture
    def shequyun_plugins(self, weather):
        return [self.Broken(), Noticeboard(), weather]

    def test_the_page_still_renders_and_the_error_is_logged(self, shequyun_client, caplog):
        with caplog.at_level(logging.ERROR):
            page = shequyun_client.get("/plugins/noticeboard/tips")
        assert page.status_code == 200
        assert "今日有雷阵雨" in page.text
        assert any(
            "parking" in r.getMessage() and "extra_template_vars" in r.getMessage()
            for r in caplog.records
        )

    def test_the_plugin_stays_active(self, shequyun_client):
        shequyun_client.get("/")
        assert plugin_listing(shequyun_client)["parking"]["state"] == "active"
