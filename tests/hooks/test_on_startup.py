"""on_startup: called once when the platform starts serving; raising withdraws the plugin."""

from __future__ import annotations

import pytest
from shequyun_sdk import NavEntry, Subscriber, hookimpl
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from ._plugins import manifest, nav_links, plugin_listing


class Noticeboard:
    """Checks at start-up that the plugins it works with are there."""

    MANIFEST = manifest("noticeboard", "社区公告")

    def __init__(self):
        self.started = []

    @hookimpl
    def register_routes(self, plugin):
        return [Route("/", lambda request: PlainTextResponse("社区公告"))]

    @hookimpl
    def on_startup(self, plugin, platform):
        partner = platform.plugin("volunteers")  # loaded, though it starts after us
        self.started.append((plugin.name, partner.mount if partner else None))


class Volunteers:
    MANIFEST = manifest("volunteers", "志愿者服务")


class Eldercare:
    """养老顾问: cannot reach the civil-affairs data at start-up, so it must be withdrawn."""

    MANIFEST = manifest("eldercare", "养老顾问")

    def __init__(self):
        self.received = []

    @hookimpl
    def register_routes(self, plugin):
        return [Route("/", lambda request: PlainTextResponse("养老顾问"))]

    @hookimpl
    def register_api_routes(self, plugin):
        return [Route("/visits", lambda request: PlainTextResponse("[]"))]

    @hookimpl
    def register_nav(self, plugin):
        return [NavEntry(label="养老顾问", href=plugin.url("/"), order=30)]

    @hookimpl
    def register_event_subscribers(self):
        return [Subscriber("resident.*", self.received.append, name="roster")]

    @hookimpl
    def on_startup(self, platform):
        raise ConnectionError("民政数据接口不可达")


@pytest.fixture
def noticeboard():
    return Noticeboard()


@pytest.fixture
def eldercare():
    return Eldercare()


@pytest.fixture
def shequyun_plugins(noticeboard, eldercare):
    return [noticeboard, Volunteers(), eldercare]


def test_called_once_when_serving_starts_with_every_plugin_loaded(shequyun_app, noticeboard):
    assert noticeboard.started == []  # building the app starts nothing
    with TestClient(shequyun_app) as client:
        assert noticeboard.started == [("noticeboard", "/plugins/volunteers")]
        client.get("/plugins/noticeboard/")
    assert noticeboard.started == [("noticeboard", "/plugins/volunteers")]


def test_a_raising_on_startup_fails_the_plugin(shequyun_client):
    eldercare = plugin_listing(shequyun_client)["eldercare"]
    assert eldercare["state"] == "failed"
    assert eldercare["reason"] == "hook on_startup raised ConnectionError: 民政数据接口不可达"


def test_a_plugin_failed_at_startup_is_withdrawn_and_the_platform_serves(shequyun_client):
    assert shequyun_client.get("/plugins/eldercare/").status_code == 404
    assert shequyun_client.get("/api/v1/plugins/eldercare/visits").status_code == 404
    page = shequyun_client.get("/")
    assert page.status_code == 200
    assert "养老顾问" not in dict(nav_links(page.text))
    assert shequyun_client.get("/healthz").json() == {"status": "ok"}
    assert shequyun_client.get("/plugins/noticeboard/").text == "社区公告"


def test_a_plugin_failed_at_startup_receives_no_events(
    shequyun_client, shequyun_kernel, drain_events, eldercare
):
    platform = shequyun_kernel.platform
    with platform.session() as session:
        platform.publish(
            session,
            "resident.removed",
            {"resident_id": 1, "unit_code": "310115004001", "unit_id": 4, "version": 2},
        )
    drain_events()
    assert eldercare.received == []


class TestAPluginRequiringOneThatFailsAtStartup:
    class Advisors:
        """民生顾问 builds on 养老顾问: without it, it cannot work."""

        MANIFEST = manifest("advisors", "民生顾问", requires=["eldercare"])

        @hookimpl
        def register_routes(self, plugin):
            return [Route("/", lambda request: PlainTextResponse("民生顾问"))]

    @pytest.fixture
    def shequyun_plugins(self, eldercare):
        return [eldercare, self.Advisors()]

    def test_is_withdrawn_too(self, shequyun_client):
        advisors = plugin_listing(shequyun_client)["advisors"]
        assert advisors["state"] == "failed"
        assert "eldercare" in advisors["reason"]
        assert shequyun_client.get("/plugins/advisors/").status_code == 404
