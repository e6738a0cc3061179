"""系统管理 in a real browser: a failed plugin and its reason, a district app switched on for one
district (and invisible, 404, everywhere else), org units, users, tokens and the audit log."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect
from shequyun_sdk import hookimpl

from .conftest import Portal, log_in, shoot

XUHUI = "310104000000"


class Eldercare:
    """养老顾问: cannot reach the civil-affairs system at start-up, so the platform withdraws it."""

    MANIFEST = {
        "name": "eldercare",
        "version": "0.3.1",
        "title": {"zh": "养老顾问", "en": "Elder-care adviser"},
        "description": {"zh": "养老顾问上门服务记录", "en": "Elder-care visits"},
        "sdk": ">=0.1,<0.2",
    }

    @hookimpl
    def on_startup(self, platform):
        raise ConnectionError("民政数据接口不可达")


@pytest.fixture(scope="module")
def portal_plugins() -> list[Any]:
    """The installed plugins plus one that fails at start-up."""
    return [Eldercare()]


def _switch_on_for_xuhui(portal: Portal) -> None:
    from sqlmodel import Session

    unit = portal.units[XUHUI]
    with Session(portal.kernel.engine) as session:
        portal.kernel.enablement.set_rule(session, "garbage", unit.id, unit.path, True, None)
        session.commit()
    portal.kernel.enablement.invalidate()


# -- plugins ---------------------------------------------------------------------------------


def test_an_admin_sees_a_failed_plugin_and_its_reason(browser_page, portal):
    page = browser_page
    log_in(page, portal, portal.actors.platform_admin())
    page.get_by_role("link", name="系统管理").click()
    shoot(page, "admin-landing")
    page.get_by_role("link", name="插件").click()
    card = page.locator("#plugin-eldercare")
    assert "失败" in card.locator(".badge").inner_text()
    assert "钩子 on_startup 出错：ConnectionError: 民政数据接口不可达" in card.inner_text()
    assert "0.3.1" in card.inner_text()
    garbage = page.locator("#plugin-garbage")
    assert "运行中" in garbage.inner_text() and "默认关闭" in garbage.inner_text()
    shoot(page, "admin-plugins")


def test_an_admin_switches_the_district_app_on_for_xuhui(browser_page, portal):
    page = browser_page
    log_in(page, portal, portal.actors.platform_admin())
    page.goto(f"{portal.url}/admin/plugins")
    card = page.locator("#plugin-garbage")
    card.get_by_label("单位编码（区、街镇或居村委）").fill("31010400000")  # one digit short
    card.get_by_role("button", name="保存设置").click()
    card = page.locator("#plugin-garbage")
    assert card.locator(".field-error").inner_text() == "找不到组织 31010400000"
    shoot(page, "admin-plugins-error")
    card.get_by_label("单位编码（区、街镇或居村委）").fill(XUHUI)
    card.get_by_label("开启").check()
    card.get_by_role("button", name="保存设置").click()
    assert page.get_by_role("status").inner_text() == "已开启。"
    rules = page.locator("#plugin-garbage table.rules")
    assert "徐汇区" in rules.inner_text() and "开启" in rules.inner_text()


def test_only_the_district_sees_its_app(browser_page, portal):
    _switch_on_for_xuhui(portal)
    page = browser_page
    log_in(page, portal, portal.actors.cadre("310104003001"))  # 宛平南路居委会, 徐汇区
    nav = page.get_by_role("navigation", name="主导航")
    nav.get_by_role("link", name="垃圾分类").click()
    assert page.url == f"{portal.url}/plugins/garbage/"
    assert page.get_by_role("heading", level=1).count() == 1
    page.context.clear_cookies()

    log_in(page, portal, portal.actors.cadre("310115004001"))  # 潍坊一村居委会, 浦东新区
    nav = page.get_by_role("navigation", name="主导航")
    assert nav.get_by_role("link", name="垃圾分类").count() == 0
    response = page.goto(f"{portal.url}/plugins/garbage/")
    assert response.status == 404
    api = page.request.get(f"{portal.url}/api/v1/plugins/garbage/checkins")
    assert api.status == 404


# -- org units -------------------------------------------------------------------------------


def test_a_district_admin_browses_and_renames_a_unit(browser_page, portal):
    page = browser_page
    log_in(page, portal, portal.actors.district_admin("310115000000"))
    page.goto(f"{portal.url}/admin")
    page.get_by_role("link", name="组织架构").click()
    assert page.get_by_role("heading", level=1).inner_text().startswith("浦东新区")
    page.get_by_role("link", name="潍坊新村街道").click()
    shoot(page, "admin-org-unit")
    page.get_by_label("在潍坊新村街道下查找（名称或编码）").fill("二村")
    page.get_by_role("button", name="查找").click()
    assert "潍坊二村居委会" in page.locator("table.data").inner_text()
    page.get_by_role("link", name="潍坊二村居委会").click()
    page.get_by_role("link", name="更名").click()
    page.get_by_label("新名称").fill("")
    page.get_by_role("button", name="更名").click()
    assert page.locator("#f-name-error").inner_text() == "名称不能为空且不超过 80 个字"
    shoot(page, "admin-org-rename-error")
    page.get_by_label("新名称").fill("潍坊二村第一居委会")
    page.get_by_role("button", name="更名").click()
    assert page.get_by_role("status").inner_text() == "已更名。"
    assert "更名：潍坊二村居委会 → 潍坊二村第一居委会" in page.locator(".timeline").inner_text()


def test_a_roster_import_shows_its_row_report(browser_page, portal, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "编码,名称,层级,上级编码\n"
        "310115007000,花木街道,街道,310115000000\n"
        "310115007001,,居委会,310115007000\n"
        "310115007002,花木二居委会,居委会,310104003000\n",
        encoding="utf-8",
    )
    page = browser_page
    log_in(page, portal, portal.actors.district_admin("310115000000"))
    page.goto(f"{portal.url}/admin/org/import")
    page.get_by_label("CSV 或 Excel（XLSX）文件").set_input_files(str(roster))
    page.get_by_role("button", name="上传并检查").click()
    assert "文件中有 2 处问题" in page.get_by_role("alert").inner_text()
    shoot(page, "admin-org-import-report")
    roster.write_text(
        "编码,名称,层级,上级编码\n"
        "310115007000,花木街道,街道,310115000000\n"
        "310115007001,花木一居委会,居委会,310115007000\n",
        encoding="utf-8",
    )
    page.get_by_label("CSV 或 Excel（XLSX）文件").set_input_files(str(roster))
    page.get_by_role("button", name="上传并检查").click()
    page.get_by_role("button", name="确认导入 2 个单位").click()
    assert page.get_by_role("status").inner_text() == "已导入 2 个单位。"


# -- users and tokens ------------------------------------------------------------------------


def test_a_street_admin_creates_a_cadre_and_grants_a_second_role(browser_page, portal):
    page = browser_page
    log_in(page, portal, portal.actors.street_admin("310115004000"))
    page.goto(f"{portal.url}/admin/users")
    page.get_by_role("link", name="新建用户").click()
    page.get_by_label("用户名").fill("zhou.min")
    page.get_by_label("姓名").fill("周敏")
    page.get_by_label("所属单位编码").fill("310115004001")
    page.get_by_label("角色").select_option("identity.cadre")
    shoot(page, "admin-user-new")
    page.get_by_role("button", name="新建用户").click()
    password = page.locator("#new-password").inner_text()
    assert re.fullmatch(r"[A-Za-z0-9]{12}", password)
    assert "只显示一次" in page.locator(".secret").inner_text()
    shoot(page, "admin-user-password")
    page.get_by_role("link", name="我已记下，查看该用户").click()
    page.get_by_label("角色", exact=True).select_option("identity.social_worker")
    page.get_by_label("授权单位编码").fill("310115005001")  # the next street's committee
    page.get_by_role("button", name="授予").click()
    assert "找不到编码为 310115005001 的单位" in page.locator("#f-unit_code-error").inner_text()
    page.get_by_label("授权单位编码").fill("310115004002")
    page.get_by_role("button", name="授予").click()
    assert page.get_by_role("status").inner_text() == "已授予该角色。"
    assert "社工" in page.locator("table.data").inner_text()
    shoot(page, "admin-user")
    page.get_by_text("重置密码…").click()
    page.get_by_role("button", name="确认重置密码").click()
    assert page.locator("#new-password").inner_text() != password
    page.goto(f"{portal.url}/admin/users")
    shoot(page, "admin-users")


def test_a_user_import_shows_passwords_once(browser_page, portal, tmp_path):
    people = tmp_path / "users.csv"
    people.write_text(
        "用户名,姓名,所属单位编码,角色\nsun.li,孙丽,310115004001,居村干部\n"
        "qian.wei,钱伟,310115004002,居村干部\n",
        encoding="utf-8",
    )
    page = browser_page
    log_in(page, portal, portal.actors.street_admin("310115004000"))
    page.goto(f"{portal.url}/admin/users/import")
    page.get_by_label("CSV 或 Excel（XLSX）文件").set_input_files(str(people))
    page.get_by_role("button", name="上传并检查").click()
    shoot(page, "admin-users-import-report")
    page.get_by_role("button", name="确认导入 2 个用户").click()
    assert "只显示一次" in page.locator(".secret").inner_text()
    assert page.locator("code.secret-value").count() == 2
    shoot(page, "admin-users-import-passwords")


def test_a_district_admin_issues_a_token(browser_page, portal):
    # A social worker: a cadre's grant sees full ID numbers, which a district admin does not,
    # so only the cadre may mint a token for it (tests/portal/test_admin_users.py).
    cadre = portal.actors.social_worker("310115005001")
    page = browser_page
    log_in(page, portal, portal.actors.district_admin("310115000000"))
    page.goto(f"{portal.url}/admin/users/{cadre.user.id}")
    page.get_by_role("link", name="签发令牌").click()
    page.get_by_label("令牌名称").fill("民政局数据对接")
    page.get_by_label("有效天数").fill("30")
    page.get_by_role("button", name="签发令牌").click()
    secret = page.locator("#token-secret").inner_text()
    assert secret.startswith("sqy_")
    shoot(page, "admin-token-secret")
    page.get_by_role("link", name="我已复制，返回令牌列表").click()
    assert "民政局数据对接" in page.locator("table.data").inner_text()
    assert secret not in page.content()
    shoot(page, "admin-tokens")


def test_the_audit_log_is_filtered(browser_page, portal):
    page = browser_page
    log_in(page, portal, portal.actors.platform_admin())
    # Something to find, whichever tests ran before: switch the district app on for Xuhui.
    page.goto(f"{portal.url}/admin/plugins")
    card = page.locator("#plugin-garbage")
    card.get_by_label("单位编码（区、街镇或居村委）").fill(XUHUI)
    card.get_by_label("开启").check()
    card.get_by_role("button", name="保存设置").click()
    expect(page.get_by_role("status")).to_have_text("已开启。")
    page.goto(f"{portal.url}/admin/audit")
    page.get_by_label("动作类别").select_option(label="插件开关")
    page.get_by_role("button", name="查询").click()
    assert "插件开关" in page.locator("table.data").inner_text()
    # Who did it is a name, and the download holds what the page shows.
    with page.expect_download() as download:
        page.get_by_role("link", name="Excel").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    page.get_by_label("起始日期").fill("2025-03-02")
    page.get_by_label("截止日期（含）").fill("2025-03-01")
    page.get_by_role("button", name="查询").click()
    assert page.locator("#f-date_to-error").is_visible()
    page.goto(f"{portal.url}/admin/audit")
    shoot(page, "admin-audit")
