"""外部应用 in a real browser: register an app from its manifest, see the secrets once, its
page with units and deliveries; the app's entry in a 徐汇 cadre's navigation. Screenshots at
390 and 1366 px."""

from __future__ import annotations

import json

from playwright.sync_api import expect

from .conftest import Portal, log_in, shoot

MANIFEST = {
    "slug": "xuhui-garbage",
    "name": "徐汇垃圾分类督导",
    "base_url": "http://127.0.0.1:9/app/",
    "redirect_uris": ["http://127.0.0.1:9/app/callback"],
    "scopes": ["residents.read"],
    "nav": [{"label": "垃圾分类督导", "path": "/", "permission": "residents.read"}],
    "webhook": {"url": "http://127.0.0.1:9/hook", "events": ["resident.*"]},
    "units": ["310104000000"],
}


def test_an_admin_registers_an_app_and_a_cadre_finds_it_in_the_nav(browser_page, portal: Portal):
    page = browser_page
    admin = portal.actors.platform_admin()
    log_in(page, portal, admin)
    page.goto(f"{portal.url}/admin")
    page.get_by_role("link", name="外部应用").click()
    shoot(page, "apps-list-empty")
    page.get_by_role("link", name="注册应用").first.click()
    shoot(page, "apps-new")
    page.get_by_label("应用清单（JSON）").fill(json.dumps(MANIFEST, ensure_ascii=False, indent=2))
    page.get_by_role("button", name="注册应用").click()
    assert page.locator("#client-secret").inner_text().startswith("sqcs_")
    assert page.locator("#webhook-secret").inner_text().startswith("whsec_")
    shoot(page, "apps-secrets")
    page.get_by_role("link", name="我已复制，查看应用").click()
    assert page.get_by_role("heading", name="启用单位").is_visible()
    shoot(page, "apps-detail")
    # another unit, found by its name with the unit picker, not typed as a code
    box = page.get_by_role("combobox", name="添加单位")
    box.fill("天平路")
    option = page.get_by_role("option", name="天平路街道")
    option.wait_for()
    option.click()
    shoot(page, "apps-detail-picking")
    page.get_by_role("button", name="保存启用单位").click()
    expect(page.get_by_text("已更新启用单位。")).to_be_visible()
    kept = page.get_by_role("group", name="目前启用的单位")
    expect(kept.get_by_role("checkbox", name="徐汇区 › 天平路街道（310104003000）")).to_be_checked()
    shoot(page, "apps-detail-units")
    page.goto(f"{portal.url}/admin/apps")
    shoot(page, "apps-list")

    page.context.clear_cookies()
    cadre = portal.actors.cadre("310104003001")
    log_in(page, portal, cadre)
    link = page.get_by_role("link", name="垃圾分类督导")
    assert link.get_attribute("href") == "http://127.0.0.1:9/app/"
    shoot(page, "apps-nav-cadre")
