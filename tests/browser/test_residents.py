"""A cadre's day with residents in a real browser: find, edit, conflict, import, export."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlmodel import Session

from shequyun.collation import pinyin_key

from ..residents._data import id_number, resident
from .conftest import log_in, shoot

UNIT = "310115004001"


def actor_of(kernel, test_actor):
    from shequyun.identity.models import Grant, OrgUnit, User

    with Session(kernel.engine) as session:
        grant = session.get(Grant, test_actor.grant.id)
        user = session.get(User, test_actor.user.id)
        unit = session.get(OrgUnit, grant.unit_id)
        return kernel.authenticator.actor_for(user, grant, unit, "session")


@pytest.fixture(scope="module")
def seeded(portal):
    """A committee with a handful of residents, registered through the service."""
    kernel = portal.kernel
    clerk = portal.actors.cadre(UNIT)
    actor = actor_of(kernel, clerk)
    people = [
        (
            "王秀英",
            "19450312",
            "124",
            "户籍",
            ["独居老人", "高龄老人"],
            ("潍坊一村", "12", "3", "402"),
        ),
        ("李建国", "19580706", "135", "户籍", ["党员", "退役军人"], ("潍坊一村", "8", "1", "201")),
        ("张美华", "19620215", "146", "常住", ["低保"], ("潍坊一村", "8", "2", "302")),
        ("陈志强", "19880930", "157", "流动", [], ("潍坊新苑", "2", "", "1101")),
        ("刘小雨", "20170520", "168", "户籍", ["留守儿童"], ("潍坊新苑", "5", "", "603")),
        (
            "周桂芳",
            "19380101",
            "182",
            "户籍",
            ["独居老人", "高龄老人", "重点关注"],
            ("潍坊一村", "1", "1", "101"),
        ),
    ]
    ids = {}
    with Session(kernel.engine, expire_on_commit=False) as session:
        for name, born, serial, registration, tags, (compound, building, entrance, room) in people:
            created = kernel.residents.create(
                session,
                actor,
                resident(
                    name=name,
                    id_number=id_number(born=born, serial=serial),
                    registration=registration,
                    tags=tags,
                    phone=f"139{serial}0{serial}1"[:11],
                    address={
                        "compound": compound,
                        "building": building,
                        "entrance": entrance,
                        "room": room,
                    },
                    household_number=f"{compound[:2]}-{building}-{room}",
                ),
                source="import",
            )
            session.flush()
            ids[name] = created.id
        session.commit()
    _open_campaigns(portal)
    return ids


def _open_campaigns(portal):
    """Two collection tasks for the committee, one of them past its deadline."""
    from datetime import UTC, datetime, timedelta

    from shequyun.collection.models import Campaign

    from ..collection._forms import COMMITTEE_COUNT

    bureau = portal.actors.bureau().client()
    for title, days in (("加装电梯意愿摸底", 1), ("楼组长名册更新", 12)):
        form = bureau.post("/api/v1/forms", json={"title": title, **COMMITTEE_COUNT})
        assert form.status_code == 201, form.text
        form_id = form.json()["id"]
        bureau.post(f"/api/v1/forms/{form_id}/versions/1/publish")
        opened = bureau.post(
            "/api/v1/campaigns",
            json={
                "form_id": form_id,
                "version": 1,
                "title": title,
                "targets": ["310115004000"],
                "deadline": (datetime.now(UTC) + timedelta(days=days)).isoformat(),
            },
        )
        assert opened.status_code == 201, opened.text
        if days == 1:
            with Session(portal.kernel.engine) as session:
                campaign = session.get(Campaign, opened.json()["id"])
                campaign.deadline = datetime.now(UTC) - timedelta(hours=3)
                session.add(campaign)
                session.commit()


def test_a_cadre_finds_a_resident_edits_them_and_sees_the_change_in_history(
    browser_page, portal, seeded
):
    page = browser_page
    cadre = portal.actors.cadre(UNIT)
    log_in(page, portal, cadre)
    page.goto(f"{portal.url}/workbench")
    assert page.get_by_role("heading", name="年龄结构").is_visible()
    overdue = page.locator(".task-list li.overdue")
    assert "加装电梯意愿摸底" in overdue.inner_text() and "已逾期" in overdue.inner_text()
    shoot(page, "workbench")

    page.get_by_role("navigation", name="主导航").get_by_role("link", name="居民信息").click()
    expect(page.locator(".result-count")).to_contain_text("共 6 人")
    shoot(page, "residents-list")
    page.get_by_label("姓名", exact=True).fill("建国")
    page.get_by_role("button", name="查找").click()
    expect(page.locator(".result-count")).to_contain_text("共 1 人")
    page.get_by_role("link", name="李建国").click()
    # expect() waits for the page the click opens; is_visible() asks the page still showing.
    expect(page.get_by_role("heading", name="李建国")).to_be_visible()
    assert "139****1351" in page.locator("dl.facts").first.inner_text()
    shoot(page, "resident-detail")

    page.get_by_role("link", name="修改", exact=True).click()
    page.get_by_label("新电话").fill("13611112222")
    page.get_by_label("室").fill("202")
    page.get_by_role("button", name="保存").click()
    assert page.get_by_role("status").inner_text() == "已保存修改。"
    history = page.locator("ol.timeline > li").first.inner_text()
    assert "电话：139****1351 → 136****2222" in history
    assert "地址：潍坊一村8号楼1单元201室 → 潍坊一村8号楼1单元202室" in history
    shoot(page, "resident-history")


def test_a_stale_edit_shows_the_conflict_and_can_be_reapplied(browser_page, portal, seeded):
    page = browser_page
    cadre = portal.actors.cadre(UNIT)
    log_in(page, portal, cadre)
    resident_id = seeded["张美华"]
    page.goto(f"{portal.url}/residents/{resident_id}/edit")
    # While the form is open, a colleague changes the record.
    kernel = portal.kernel
    with Session(kernel.engine) as session:
        current = kernel.residents.get(session, actor_of(kernel, cadre), resident_id)
        kernel.residents.update(
            session,
            actor_of(kernel, cadre),
            resident_id,
            {"tags": ["低保", "残疾"], "household_number": "潍坊-8-302A"},
            version=current.version,
            source="api",
        )
        session.commit()
    page.get_by_label("户号").fill("潍坊-8-303")
    page.get_by_role("button", name="保存").click()
    conflict = page.locator("section.conflict")
    assert conflict.get_by_role("heading", name="该记录已被他人修改").is_visible()
    rows = conflict.locator("tbody tr").all_inner_texts()
    assert any(
        "户号" in r and "双方都改了" in r and "潍坊-8-303" in r and "潍坊-8-302A" in r for r in rows
    ), rows
    assert any("标签" in r and "他人改的" in r and "低保、残疾" in r for r in rows), rows
    # The form came back merged: my 户号, the colleague's tags.
    assert page.get_by_label("户号").input_value() == "潍坊-8-303"
    assert page.get_by_role("checkbox", name="残疾").is_checked()
    shoot(page, "resident-edit-conflict")
    page.get_by_role("button", name="保存合并结果").click()
    assert page.get_by_role("status").inner_text() == "已保存修改。"
    facts = page.locator("dl.facts").first.inner_text()
    assert "潍坊-8-303" in facts and "残疾" in facts


def test_the_import_wizard_shows_the_row_report_for_a_bad_file(browser_page, portal, seeded):
    page = browser_page
    log_in(page, portal, portal.actors.cadre(UNIT))
    page.goto(f"{portal.url}/residents/import")
    bad = (
        "姓名,身份证号,户籍类型,联系电话,小区,楼栋,室,标签\n"
        f"孙丽,{id_number(born='19700101', serial='211')},户籍,1380000,潍坊一村,3,101,\n"
        "周强,31011519700101211,常住,,潍坊一村,3,102,\n"
        f"吴敏,{id_number(born='19700303', serial='222')},外地,,潍坊一村,3,103,不存在的标签\n"
        f"王秀英,{id_number()},户籍,,潍坊一村,12,402,\n"
    )
    page.get_by_label("CSV 或 Excel（XLSX）文件").set_input_files(
        files=[{"name": "新登记.csv", "mimeType": "text/csv", "buffer": bad.encode("utf-8")}]
    )
    page.get_by_role("button", name="上传并检查").click()
    rows = page.locator("table.report tbody tr").all_inner_texts()
    cells = [re.split(r"\s+", row.strip(), maxsplit=2) for row in rows]
    assert {(c[0], c[1]) for c in cells} >= {
        ("2", "联系电话"),
        ("3", "身份证号"),
        ("4", "户籍类型"),
        ("4", "标签"),
    }
    assert page.get_by_role("button", name=re.compile("确认导入")).count() == 0
    shoot(page, "residents-import-report")


def test_export_gives_a_file_after_stating_a_purpose(browser_page, portal, seeded):
    page = browser_page
    log_in(page, portal, portal.actors.cadre(UNIT))
    page.goto(f"{portal.url}/residents?tag=独居老人")
    page.get_by_role("link", name="下载当前结果").click()
    assert "将下载 2 位居民" in page.locator("main").inner_text()
    page.get_by_role("button", name="下载").click()
    assert page.locator("#f-purpose-error").inner_text() == "请说明下载用途（2-200 个字）"
    shoot(page, "residents-export")
    page.get_by_label("下载用途").fill("重阳节上门慰问")
    with page.expect_download() as info:
        page.get_by_role("button", name="下载").click()
    download = info.value
    assert download.suggested_filename.endswith(".csv")
    text = Path(download.path()).read_text(encoding="utf-8-sig")
    lines = text.splitlines()
    assert lines[0].startswith("姓名,性别,出生日期,年龄")
    assert {line.split(",")[0] for line in lines[1:]} == {"王秀英", "周桂芳"}


def test_registering_a_resident_with_an_error_fixed_on_the_way(browser_page, portal, seeded):
    page = browser_page
    log_in(page, portal, portal.actors.cadre(UNIT))
    page.goto(f"{portal.url}/residents/new")
    page.get_by_label("姓名").fill("孙建华")
    page.get_by_role("textbox", name="身份证号", exact=True).fill(
        id_number(born="19551010", serial="330")[:-1] + "0"
    )
    page.get_by_label("小区").fill("潍坊一村")
    page.get_by_label("楼栋").fill("6")
    page.get_by_role("checkbox", name="独居老人").check()
    page.get_by_role("button", name="登记").click()
    error = page.locator("#f-id_number-error")
    assert error.inner_text() == "身份证号校验位不正确"
    assert (
        page.get_by_role("textbox", name="身份证号", exact=True).get_attribute("aria-invalid")
        == "true"
    )
    assert page.get_by_role("checkbox", name="独居老人").is_checked()  # kept as typed
    shoot(page, "resident-new-errors")
    page.get_by_role("textbox", name="身份证号", exact=True).fill(
        id_number(born="19551010", serial="330")
    )
    page.get_by_role("button", name="登记").click()
    assert page.get_by_role("status").inner_text() == "已登记该居民。"
    assert page.get_by_role("heading", name="孙建华").is_visible()


def test_a_cadre_sorts_the_list_and_prints_a_resident_card(browser_page, portal, seeded):
    page = browser_page
    log_in(page, portal, portal.actors.cadre(UNIT))
    page.goto(f"{portal.url}/residents")
    page.get_by_label("排序").select_option(label="姓名（按拼音）")
    page.get_by_role("button", name="排序", exact=True).click()
    names = page.locator("table.residents td.name").all_inner_texts()
    # 按姓氏拼音, whoever else this module's other tests registered (孙建华, when run in order).
    assert names == sorted(names, key=pinyin_key)
    seeded = ["陈志强", "李建国", "刘小雨", "王秀英", "张美华", "周桂芳"]
    assert [name for name in names if name in seeded] == seeded
    page.get_by_label("排序").select_option(label="年龄从大到小")
    page.get_by_role("button", name="排序", exact=True).click()
    first = page.locator("table.residents td.name").first.inner_text()
    assert first == "周桂芳"  # born 1938, the eldest
    shoot(page, "residents-sorted")
    page.get_by_role("link", name="周桂芳").click()
    expect(page.get_by_role("button", name="打印居民卡")).to_be_visible()
    page.emulate_media(media="print")
    # expect() waits for the print styles to apply; is_visible() right after the switch may
    # still see the screen layout.
    expect(page.locator(".shell-header")).to_be_hidden()
    assert page.get_by_role("heading", name="基本信息").is_visible()
    page.screenshot(path="test-results/screenshots/resident-card-print.png", full_page=True)
    page.emulate_media(media="screen")
