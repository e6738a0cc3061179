"""register_nav: entries in the portal's navigation, sorted by ``order``, gone with their plugin."""

from __future__ import annotations

import pytest
from shequyun_sdk import NavEntry, hookimpl
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from ._plugins import manifest, nav_links, plugin_listing


class Deliberation:
    MANIFEST = manifest("deliberation", "议事厅")

    @hookimpl
    def register_nav(self, plugin):
        return [NavEntry(label="议事厅", label_en="Deliberation", href=plugin.url("/"), order=20)]


class Disclosure:
    """居务公开 and 社区公告 share an order; the label breaks the tie."""

    MANIFEST = manifest("disclosure", "居务公开")

    @hookimpl
    def register_nav(self, plugin):
        return [
            NavEntry(label="社区公告", href=plugin.url("/notices"), order=10),
            NavEntry(label="居务公开", href=plugin.url("/"), order=10),
        ]


class Eldercare:
    """Its nav entry is collected, then its start-up fails: the entry must not be shown."""

    MANIFEST = manifest("eldercare", "养老顾问")

    @hookimpl
    def register_routes(self, plugin):
        return [Route("/", lambda request: PlainTextResponse("养老顾问"))]

    @hookimpl
    def register_nav(self, plugin):
        return [NavEntry(label="养老顾问", href=plugin.url("/"), order=5)]

    @hookimpl
    def on_startup(self):
        raise ConnectionError("民政数据接口不可达")


class BadNav:
    MANIFEST = manifest("parking", "停车管理")

    @hookimpl
    def register_nav(self, plugin):
        return [{"label": "停车管理", "href": plugin.url("/")}]


@pytest.fixture
def shequyun_plugins():
    return [Deliberation(), Disclosure(), Eldercare(), BadNav()]


def test_entries_appear_in_the_portal_sorted_by_order_then_label(shequyun_client):
    page = shequyun_client.get("/")
    assert page.status_code == 200
    assert nav_links(page.text) == [
        ("首页", "/"),
        ("居务公开", "/plugins/disclosure/"),
        ("社区公告", "/plugins/disclosure/notices"),
        ("议事厅", "/plugins/deliberation/"),
    ]


def test_entries_of_a_plugin_that_failed_after_registering_them_are_not_shown(shequyun_client):
    eldercare = plugin_listing(shequyun_client)["eldercare"]
    assert eldercare["state"] == "failed"
    assert "养老顾问" not in dict(nav_links(shequyun_client.get("/").text))
    assert shequyun_client.get("/plugins/eldercare/").status_code == 404


def test_returning_something_else_than_nav_entries_fails_the_plugin(shequyun_client):
    parking = plugin_listing(shequyun_client)["parking"]
    assert parking["state"] == "failed"
    assert "register_nav must return a list of NavEntry" in parking["reason"]
    assert "停车管理" not in shequyun_client.get("/").text


class TestWhenRegisterNavRaises:
    class Broken:
        MANIFEST = manifest("broken_nav", "坏导航")

        @hookimpl
        def register_nav(self):
            raise ValueError("导航配置错误")

    @pytest.fixture
    def shequyun_plugins(self):
        return [self.Broken(), Deliberation()]

    def test_the_plugin_is_failed_and_the_portal_still_renders(self, shequyun_client):
        broken = plugin_listing(shequyun_client)["broken_nav"]
        assert broken["state"] == "failed"
        assert "hook register_nav raised ValueError: 导航配置错误" in broken["reason"]
        assert nav_links(shequyun_client.get("/").text) == [
            ("首页", "/"),
            ("议事厅", "/plugins/deliberation/"),
        ]


class TestAnEntryWithAPermission:
    class Deliberation:
        MANIFEST = manifest(
            "deliberation",
            "议事厅",
            permissions=[
                {
                    "name": "deliberation.raise_topic",
                    "title": {"zh": "发起议题"},
                    "roles": ["identity.cadre"],
                }
            ],
        )

        @hookimpl
        def register_nav(self, plugin):
            return [
                NavEntry(label="议事厅", href=plugin.url("/"), order=20),
                NavEntry(
                    label="发起议题",
                    href=plugin.url("/new"),
                    permission="deliberation.raise_topic",
                    order=21,
                ),
            ]

    @pytest.fixture
    def shequyun_plugins(self):
        return [self.Deliberation()]

    def test_is_shown_only_to_users_holding_it(self, shequyun_client, shequyun_actors):
        anonymous = nav_links(shequyun_client.get("/").text)
        assert ("议事厅", "/plugins/deliberation/") in anonymous
        assert "发起议题" not in dict(anonymous)
        social_worker = shequyun_actors.social_worker().portal()
        assert "发起议题" not in dict(nav_links(social_worker.get("/").text))
        cadre = shequyun_actors.cadre("310115004001").portal()
        assert ("发起议题", "/plugins/deliberation/new") in nav_links(cadre.get("/").text)
