"""Logging in to the portal in a real browser."""

from __future__ import annotations

from .conftest import log_in, shoot


def test_a_cadre_logs_in_and_sees_their_committee(browser_page, portal):
    page = browser_page
    cadre = portal.actors.cadre("310115004001")
    page.goto(f"{portal.url}/")
    shoot(page, "home-anonymous")
    log_in(page, portal, cadre)
    header = page.locator(".shell-header")
    assert "潍坊一村居委会 · 居村干部" in header.inner_text()
    shoot(page, "home-cadre")


def test_a_wrong_password_is_refused_in_chinese(browser_page, portal):
    page = browser_page
    cadre = portal.actors.cadre("310115004002")
    page.goto(f"{portal.url}/login")
    page.get_by_label("用户名").fill(cadre.username)
    page.get_by_label("密码").fill("wrong-password")
    page.get_by_role("button", name="登录").click()
    assert page.get_by_role("alert").inner_text() == "用户名或密码不正确"
    shoot(page, "login-error")
