"""Choosing the portal's language: any tag of an offered language works, the choice is
remembered in a cookie, and the visitor goes back to the page they were on."""

from __future__ import annotations

import pytest

from shequyun.i18n import language_of_tag


@pytest.mark.parametrize(
    ("tag", "language"),
    [
        ("zh", "zh_CN"),
        ("zh-CN", "zh_CN"),
        ("zh_CN", "zh_CN"),
        ("zh-Hans", "zh_CN"),
        ("ZH-cn", "zh_CN"),
        ("en", "en"),
        ("en-GB", "en"),
        ("fr", None),
        ("", None),
    ],
)
def test_a_tag_names_an_offered_language_or_none(tag, language):
    assert language_of_tag(tag) == language


@pytest.mark.parametrize("tag", ["zh", "zh-CN", "zh_CN"])
def test_lang_zh_switches_to_chinese_and_goes_back(shequyun_client, tag):
    shequyun_client.cookies.set("shequyun_lang", "en")
    response = shequyun_client.get(f"/lang/{tag}?next=/login", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert "shequyun_lang=zh_CN" in response.headers["set-cookie"]


def test_lang_en_then_zh_changes_the_login_page(shequyun_client):
    shequyun_client.get("/lang/en")
    assert "Log in" in shequyun_client.get("/login").text
    shequyun_client.get("/lang/zh")
    assert "登录" in shequyun_client.get("/login").text


def test_an_unknown_language_is_404_naming_what_is_offered(shequyun_client):
    response = shequyun_client.get("/lang/fr", follow_redirects=False)
    assert response.status_code == 404
    assert "/lang/zh" in response.text


def test_the_next_address_never_leaves_the_portal(shequyun_client):
    response = shequyun_client.get("/lang/zh?next=//evil.example/", follow_redirects=False)
    assert response.headers["location"] == "/"
