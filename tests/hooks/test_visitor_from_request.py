"""visitor_from_request: a plugin tells the portal's header who a visitor without a staff login is."""

from __future__ import annotations

import logging
import re

import pytest
from shequyun_sdk import Visitor, hookimpl
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from ._plugins import manifest


class Neighbours:
    """Residents sign in with their own cookie; the header should greet them by name."""

    MANIFEST = manifest("neighbours", "邻里互动")

    def __init__(self):
        self.calls = 0

    @hookimpl
    def visitor_from_request(self, plugin, request):
        self.calls += 1
        if request.cookies.get("neighbours_member") != "wang":
            return None
        return Visitor(name="王秀英", href=plugin.url("/me"), logout_href=plugin.url("/logout"))

    @hookimpl
    def register_routes(self):
        return [Route("/logout", self.logout, methods=["POST"])]

    async def logout(self, request):
        return PlainTextResponse("已退出")


class Volunteers:
    """Knows visitors too, but comes after 邻里互动 in plugin order (names sort)."""

    MANIFEST = manifest("volunteers", "志愿者")

    @hookimpl
    def visitor_from_request(self, request):
        if "volunteer" not in request.cookies:
            return None
        return Visitor(name="志愿者李四")


class Broken:
    MANIFEST = manifest("broken", "坏插件")

    @hookimpl
    def visitor_from_request(self, request):
        if "explode" in request.cookies:
            raise LookupError("会话表缺失")
        return "王秀英" if "wrong_type" in request.cookies else None


@pytest.fixture
def neighbours():
    return Neighbours()


@pytest.fixture
def shequyun_plugins(neighbours):
    return [Broken(), neighbours, Volunteers()]


def account_area(html):
    match = re.search(r'<div class="account">(.*?)</div>', html, re.S)
    assert match, "the page has no account area"
    return match.group(1)


def test_without_a_visitor_the_header_offers_the_staff_login(shequyun_client):
    header = account_area(shequyun_client.get("/").text)
    assert '<a class="staff-login" href="/login">工作人员登录</a>' in header


def test_a_plugins_visitor_is_shown_with_their_links_and_the_staff_login_stays(shequyun_client):
    shequyun_client.cookies.set("neighbours_member", "wang")
    header = account_area(shequyun_client.get("/").text)
    assert '<a class="who" href="/plugins/neighbours/me">王秀英</a>' in header
    assert '<form method="post" action="/plugins/neighbours/logout"' in header
    assert '<a class="staff-login" href="/login">工作人员登录</a>' in header
    token = re.search(r'name="csrf_token" value="([^"]+)"', header).group(1)
    out = shequyun_client.post("/plugins/neighbours/logout", data={"csrf_token": token})
    assert out.text == "已退出"  # the header's form passes the CSRF check


def test_the_header_speaks_english_too(shequyun_client):
    shequyun_client.cookies.set("neighbours_member", "wang")
    shequyun_client.cookies.set("shequyun_lang", "en")
    header = account_area(shequyun_client.get("/").text)
    assert ">Log out</button>" in header and ">Staff login</a>" in header


def test_the_first_plugin_that_knows_the_visitor_wins(shequyun_client):
    shequyun_client.cookies.set("volunteer", "1")
    assert "志愿者李四" in account_area(shequyun_client.get("/").text)
    shequyun_client.cookies.set("neighbours_member", "wang")
    header = account_area(shequyun_client.get("/").text)
    assert "王秀英" in header and "志愿者李四" not in header


def test_a_visitor_without_links_shows_only_the_name(shequyun_client):
    shequyun_client.cookies.set("volunteer", "1")
    header = account_area(shequyun_client.get("/").text)
    assert '<span class="who">志愿者李四</span>' in header
    # No way out to offer: the only form is the 大字模式 switch every header has.
    forms = re.findall(r'<form[^>]*action="([^"]*)"', header)
    assert [action for action in forms if not action.startswith("/display/")] == []


def test_not_asked_when_a_staff_user_is_logged_in(shequyun_client, shequyun_actors, neighbours):
    portal = shequyun_actors.cadre("310115004001").portal()
    portal.cookies.set("neighbours_member", "wang")
    before = neighbours.calls
    header = account_area(portal.get("/").text)
    assert neighbours.calls == before
    assert "王秀英" not in header and "/logout" in header


def test_a_raising_or_wrong_hook_is_logged_and_the_next_plugin_answers(shequyun_client, caplog):
    shequyun_client.cookies.set("neighbours_member", "wang")
    for cookie in ("explode", "wrong_type"):
        shequyun_client.cookies.set(cookie, "1")
        with caplog.at_level(logging.ERROR):
            page = shequyun_client.get("/")
        assert page.status_code == 200
        assert "王秀英" in account_area(page.text)
        shequyun_client.cookies.delete(cookie)
    messages = [r.getMessage() for r in caplog.records]
    assert any("broken" in m and "LookupError" in m for m in messages)
    assert any("broken" in m and "not a Visitor" in m for m in messages)
