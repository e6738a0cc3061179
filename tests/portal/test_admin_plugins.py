"""插件 and 审计日志 in-process: states and reasons, per-unit enablement, the log's filters."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from shequyun_sdk import NavEntry, hookimpl
from sqlmodel import Session, func, select
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from shequyun.enablement import PluginEnablement
from shequyun.identity import audit
from shequyun.identity.models import AuditEntry


def manifest(name, title, **extra):
    return {
        "name": name,
        "version": "0.2.0",
        "title": {"zh": title},
        "description": {"zh": f"{title}（测试插件）"},
        "sdk": ">=0.1,<0.2",
        **extra,
    }


class Eldercare:
    """养老顾问: cannot reach the civil-affairs system at start-up, so it fails."""

    MANIFEST = manifest("eldercare", "养老顾问")

    @hookimpl
    def on_startup(self, platform):
        raise ConnectionError("民政数据接口不可达")


class Lanes:
    """弄堂议事: a district app, off unless switched on somewhere."""

    MANIFEST = manifest("lanes", "弄堂议事", enabled_by_default=False)

    @hookimpl
    def register_routes(self, plugin):
        return [Route("/", lambda request: PlainTextResponse("弄堂议事"))]

    @hookimpl
    def register_nav(self, plugin):
        return [NavEntry(label="弄堂议事", href=plugin.url("/"), order=40)]


@pytest.fixture
def shequyun_plugins():
    return [Eldercare(), Lanes()]


def field_error(html: str, field: str) -> str:
    match = re.search(rf'id="{field}-error">([^<]*)<', html)
    assert match, f"no error next to {field}"
    return match.group(1)


def rules(kernel, plugin):
    with Session(kernel.engine) as session:
        return [(r.unit_id, r.enabled) for r in kernel.enablement.listing(session, plugin)]


# -- plugins ---------------------------------------------------------------------------------


def test_the_platform_admin_sees_each_plugin_and_why_one_failed(shequyun_actors):
    admin = shequyun_actors.platform_admin().portal()
    page = admin.get("/admin/plugins")
    assert page.status_code == 200
    card = page.text[page.text.index('id="plugin-eldercare"') :]
    card = card[: card.index("</li>")]
    assert "养老顾问" in card and "失败" in card and "0.2.0" in card
    # The reason in the visitor's language (the host words it in English, the catalog in Chinese)
    assert "钩子 on_startup 出错：ConnectionError: 民政数据接口不可达" in card
    lanes = page.text[page.text.index('id="plugin-lanes"') :]
    assert "运行中" in lanes and "默认关闭" in lanes
    assert "内置功能" in page.text and "plugin-identity" in page.text  # the kernel's own


def test_the_page_speaks_english_when_asked_reasons_and_refusals_too(shequyun_actors):
    admin = shequyun_actors.platform_admin().portal()
    admin.cookies.set("shequyun_lang", "en")
    page = admin.get("/admin/plugins").text
    card = page[page.index('id="plugin-eldercare"') :]
    assert (
        "hook on_startup raised ConnectionError: 民政数据接口不可达" in card[: card.index("</li>")]
    )
    missing = admin.post("/admin/plugins/lanes/enablement", data={"unit_code": "", "enabled": "x"})
    assert field_error(missing.text, "f-lanes-unit") == (
        "Enter the code of a district, street or committee"
    )
    assert field_error(missing.text, "f-lanes-enabled") == "Choose on or off"


def test_only_plugin_managers_open_the_page(shequyun_actors):
    district = shequyun_actors.district_admin("310104000000").portal()
    assert district.get("/admin/plugins").status_code == 403
    assert (
        district.post(
            "/admin/plugins/lanes/enablement", data={"unit_code": "310104000000", "enabled": "on"}
        ).status_code
        == 403
    )


def test_a_plugin_is_switched_on_for_one_district(shequyun_actors, shequyun_kernel):
    admin = shequyun_actors.platform_admin().portal()
    xuhui = shequyun_actors.cadre("310104003001").portal()
    pudong = shequyun_actors.cadre("310115004001").portal()
    assert xuhui.get("/plugins/lanes/").status_code == 404
    done = admin.post(
        "/admin/plugins/lanes/enablement",
        data={"unit_code": "310104000000", "enabled": "on"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    page = admin.get("/admin/plugins")
    lanes = page.text[page.text.index('id="plugin-lanes"') :]
    assert "徐汇区" in lanes[: lanes.index("</li>")]
    assert xuhui.get("/plugins/lanes/").text == "弄堂议事"
    assert "弄堂议事" in xuhui.get("/").text  # the nav entry
    assert pudong.get("/plugins/lanes/").status_code == 404
    assert "弄堂议事" not in pudong.get("/").text

    # Off for one street inside the district, then the rule removed again.
    admin.post(
        "/admin/plugins/lanes/enablement", data={"unit_code": "310104003000", "enabled": "off"}
    )
    assert xuhui.get("/plugins/lanes/").status_code == 404
    admin.post(
        "/admin/plugins/lanes/enablement", data={"unit_code": "310104003000", "enabled": "remove"}
    )
    assert xuhui.get("/plugins/lanes/").status_code == 200
    with Session(shequyun_kernel.engine) as session:
        changes = session.exec(
            select(AuditEntry).where(AuditEntry.action == "plugin.enablement_changed")
        ).all()
    assert [c.detail["enabled"] for c in changes] == [True, False, None]


def test_plugins_ask_where_they_are_on_for_people_the_kernel_does_not_know(
    shequyun_actors, shequyun_kernel
):
    admin = shequyun_actors.platform_admin().portal()
    platform = shequyun_kernel.platform
    with platform.session() as session:
        xuhui_committee = platform.unit(session, "310104003001")
        district = platform.unit(session, "310104000000")
        pudong_committee = platform.unit(session, "310115004001")
    assert not platform.plugin_enabled_at("lanes", xuhui_committee)  # off by default
    assert platform.plugin_enabled_at("residents", pudong_committee)  # the kernel's own
    admin.post(
        "/admin/plugins/lanes/enablement", data={"unit_code": "310104000000", "enabled": "on"}
    )
    admin.post(
        "/admin/plugins/lanes/enablement", data={"unit_code": "310104003000", "enabled": "off"}
    )
    assert not platform.plugin_enabled_at("lanes", xuhui_committee)  # its street is off
    assert platform.plugin_enabled_at("lanes", district)  # the district itself is on
    assert not platform.plugin_enabled_at("lanes", pudong_committee)
    assert not platform.plugin_enabled_at("eldercare", district)  # failed at start-up


def test_visitors_of_no_known_place_follow_the_city_s_switch_not_a_district_s(
    shequyun_actors, shequyun_client
):
    """Anonymous visitors (and residents signed in to a plugin) have no unit, so a district's
    rule says nothing about them; switched on or off for the whole city, an app is on or off
    for them too."""
    admin = shequyun_actors.platform_admin().portal()
    xuhui = shequyun_actors.cadre("310104003001").portal()

    def switch(unit_code, enabled):
        done = admin.post(
            "/admin/plugins/lanes/enablement", data={"unit_code": unit_code, "enabled": enabled}
        )
        assert done.status_code in (200, 303), done.text

    assert shequyun_client.get("/plugins/lanes/").status_code == 404  # off by default
    switch("310104000000", "on")
    assert xuhui.get("/plugins/lanes/").status_code == 200
    assert shequyun_client.get("/plugins/lanes/").status_code == 404  # only 徐汇区's
    switch("310000000000", "on")
    assert shequyun_client.get("/plugins/lanes/").text == "弄堂议事"
    switch("310104000000", "off")  # a district off inside a city that is on
    assert xuhui.get("/plugins/lanes/").status_code == 404
    assert shequyun_client.get("/plugins/lanes/").status_code == 200
    switch("310000000000", "off")
    assert shequyun_client.get("/plugins/lanes/").status_code == 404
    switch("310000000000", "remove")  # the manifest's default again
    assert shequyun_client.get("/plugins/lanes/").status_code == 404


def test_bad_enablement_input_writes_nothing(shequyun_actors, shequyun_kernel):
    admin = shequyun_actors.platform_admin().portal()
    missing = admin.post("/admin/plugins/lanes/enablement", data={"unit_code": "", "enabled": "on"})
    assert missing.status_code == 422
    assert field_error(missing.text, "f-lanes-unit")
    unknown = admin.post(
        "/admin/plugins/lanes/enablement", data={"unit_code": "310199000000", "enabled": "on"}
    )
    assert unknown.status_code == 422
    assert field_error(unknown.text, "f-lanes-unit") == "找不到组织 310199000000"
    assert 'value="310199000000"' in unknown.text
    bad_choice = admin.post(
        "/admin/plugins/lanes/enablement", data={"unit_code": "310104000000", "enabled": "yes"}
    )
    assert bad_choice.status_code == 422
    builtin = admin.post(
        "/admin/plugins/identity/enablement", data={"unit_code": "310104000000", "enabled": "off"}
    )
    assert builtin.status_code == 404
    with Session(shequyun_kernel.engine) as session:
        assert session.exec(select(func.count()).select_from(PluginEnablement)).one() == 0


# -- the audit log ---------------------------------------------------------------------------


def actions_in(page):
    """The action codes of the log's lines on a page."""
    return re.findall(r'class="muted action-code">([^<]+)<', page.text)


def _entries(kernel, units, *rows):
    with Session(kernel.engine) as session:
        for action, code, outcome, ago in rows:
            entry = audit.record(session, action, outcome=outcome, unit_id=units[code].id)
            entry.at = datetime.now(UTC) - ago
        session.commit()


def test_a_street_admin_reads_the_log_of_their_street(shequyun_actors, shequyun_kernel):
    units = shequyun_actors.units
    _entries(
        shequyun_kernel,
        units,
        ("resident.updated", "310115004001", "ok", timedelta(hours=1)),
        ("resident.revealed", "310115004002", "ok", timedelta(days=3)),
        ("resident.updated", "310115005001", "ok", timedelta(hours=2)),  # the next street
        ("access.denied", "310115004001", "denied", timedelta(minutes=5)),
    )
    street = shequyun_actors.street_admin("310115004000").portal()
    page = street.get("/admin/audit")
    assert page.status_code == 200
    assert actions_in(page).count("resident.updated") == 1  # not the other street's
    assert "修改居民信息" in page.text and "潍坊一村居委会" in page.text
    denied = street.get("/admin/audit", params={"outcome": "denied"})
    assert "access.denied" in actions_in(denied) and "resident.updated" not in actions_in(denied)
    by_prefix = street.get("/admin/audit", params={"action": "resident."})
    assert "resident.revealed" in actions_in(by_prefix) and "access.denied" not in actions_in(
        by_prefix
    )
    today = (datetime.now(UTC) + timedelta(hours=8)).date()
    recent = street.get(
        "/admin/audit",
        params={"action": "resident.", "date_from": (today - timedelta(days=1)).isoformat()},
    )
    assert "resident.updated" in actions_in(recent) and "resident.revealed" not in actions_in(
        recent
    )
    by_unit = street.get("/admin/audit", params={"unit": "310115004002"})
    assert "resident.revealed" in actions_in(by_unit) and "resident.updated" not in actions_in(
        by_unit
    )


def test_bad_filters_are_shown_next_to_their_fields(shequyun_actors):
    street = shequyun_actors.street_admin("310115004000").portal()
    bad_date = street.get("/admin/audit", params={"date_from": "2025-02-30"})
    assert bad_date.status_code == 422
    assert field_error(bad_date.text, "f-date_from") == "日期格式应为 2025-01-01"
    reversed_range = street.get(
        "/admin/audit", params={"date_from": "2025-03-02", "date_to": "2025-03-01"}
    )
    assert reversed_range.status_code == 422
    assert field_error(reversed_range.text, "f-date_to")
    bad_unit = street.get("/admin/audit", params={"unit": "3101"})
    assert bad_unit.status_code == 422
    assert field_error(bad_unit.text, "f-unit")


def test_the_log_is_paged_by_cursor(shequyun_actors, shequyun_kernel):
    units = shequyun_actors.units
    _entries(
        shequyun_kernel,
        units,
        *[("resident.updated", "310115004001", "ok", timedelta(minutes=i)) for i in range(60)],
    )
    street = shequyun_actors.street_admin("310115004000").portal()
    first = street.get("/admin/audit", params={"action": "resident."})
    assert actions_in(first).count("resident.updated") == 50
    link = re.search(r'href="\?([^"]*cursor=[^"]+)"', first.text).group(1).replace("&amp;", "&")
    second = street.get(f"/admin/audit?{link}")
    assert actions_in(second).count("resident.updated") == 10
    assert "回到第一页" in second.text
