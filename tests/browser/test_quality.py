"""Data quality in a real browser: a cadre works through the committee's to-do list, a street
administrator merges a duplicate pair and undoes the merge."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from ..residents._data import id_number, resident
from .conftest import log_in, shoot

HOME, OTHER, STREET = "310115004001", "310115004002", "310115004000"


def actor_of(kernel, test_actor):
    from shequyun.identity.models import Grant, OrgUnit, User

    with Session(kernel.engine) as session:
        grant = session.get(Grant, test_actor.grant.id)
        user = session.get(User, test_actor.user.id)
        unit = session.get(OrgUnit, grant.unit_id)
        return kernel.authenticator.actor_for(user, grant, unit, "session")


@pytest.fixture(scope="module")
def planted(portal):
    """Complete records, one without a phone, one born in 1910, one person registered twice."""
    kernel = portal.kernel
    people = [
        (HOME, "王秀英", "19450312", "124", "13900001241"),
        (HOME, "李建国", "19580706", "135", "13900001351"),
        (HOME, "赵海燕", "19720409", "146", None),  # 户籍 without a phone: a warning
        (HOME, "钱福寿", "19100101", "157", "13900001571"),  # 116 years old: an error
        (HOME, "孙玉兰", "19500101", "163", "13900001631"),
        (OTHER, "孙玉兰", "19500101", "165", None),  # the same person, never transferred
    ]
    actors = {unit: actor_of(kernel, portal.actors.cadre(unit)) for unit in (HOME, OTHER)}
    ids = {}
    with Session(kernel.engine, expire_on_commit=False) as session:
        for unit, name, born, serial, phone in people:
            actor = actors[unit]
            data = resident(
                name=name,
                id_number=id_number(born=born, serial=serial),
                phone=phone,
                tags=[],
                household_number=f"W-{serial}",
                address={"compound": "潍坊一村", "building": serial[-1], "room": f"{serial}"},
            )
            created = kernel.residents.create(
                session, actor, {k: v for k, v in data.items() if v is not None}, source="api"
            )
            session.flush()
            ids[(unit, name)] = created.id
        session.commit()
    kernel.events.drain()
    kernel.quality.duplicates.find()
    return ids


def log_out(page):
    page.get_by_role("button", name="退出").click()
    page.wait_for_load_state("networkidle")


def todo_row(page, name):
    return page.locator("table.findings tbody tr", has_text=name)


def test_a_cadre_works_through_the_to_do_list(browser_page, portal, planted):
    page = browser_page
    log_in(page, portal, portal.actors.cadre(HOME))
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="数据质量").click()
    page.wait_for_load_state("networkidle")
    committee = portal.units[HOME].name
    assert page.get_by_role("heading", name=f"我的数据质量 · {committee}").is_visible()
    rows = page.locator("table.findings tbody tr")
    assert "钱福寿" in rows.first.inner_text()  # errors first
    assert "错误" in rows.first.inner_text()
    assert todo_row(page, "赵海燕").count() == 1
    shoot(page, "quality-todo")

    # Fix the record: the finding goes by itself.
    todo_row(page, "赵海燕").get_by_role("link", name="去修改").click()
    page.get_by_label("新电话").fill("13611112222")
    page.get_by_role("button", name="保存").click()
    assert page.get_by_role("status").inner_text() == "已保存修改。"
    portal.kernel.events.drain()
    page.goto(f"{portal.url}/quality")
    assert todo_row(page, "赵海燕").count() == 0

    # The value is right: a note, and the rule skips him.
    row = todo_row(page, "钱福寿")
    row.get_by_text("情况属实").click()
    row.get_by_label("核实情况").fill("上门核实，老人健在，出生日期无误")
    row.get_by_role("button", name="标记核实无误").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("status").inner_text().startswith("已标记核实无误")
    assert todo_row(page, "钱福寿").count() == 0
    shoot(page, "quality-todo-done")


def test_a_street_merges_a_duplicate_and_undoes_it(browser_page, portal, planted):
    page = browser_page
    log_in(page, portal, portal.actors.street_admin(STREET))
    page.goto(f"{portal.url}/quality")
    assert page.get_by_role("heading", name="下级排名").is_visible()
    shoot(page, "quality-street")
    page.get_by_role("link", name="疑似重复记录").click()
    page.wait_for_load_state("networkidle")
    pair = page.locator("section.card", has_text="孙玉兰")
    assert "可能漏办迁移" in pair.inner_text()
    shoot(page, "quality-duplicates")

    kept_row = pair.locator("tbody tr", has_text=portal.units[HOME].name)
    kept_row.get_by_role("button", name="保留这条，合并另一条").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("status").inner_text().startswith("已合并")
    assert page.locator("section.card", has_text="孙玉兰").count() == 0
    merges = page.get_by_role("region", name="最近的合并")
    assert "孙玉兰" in merges.inner_text()
    shoot(page, "quality-merged")

    merges.get_by_role("button", name="撤销合并").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("status").inner_text().startswith("已撤销合并")
    assert page.locator("section.card", has_text="孙玉兰").count() == 1
    assert "已撤销" in page.get_by_role("region", name="最近的合并").inner_text()
    shoot(page, "quality-merge-undone")


def test_a_street_starts_a_verification_round(browser_page, portal, planted):
    page = browser_page
    log_in(page, portal, portal.actors.street_admin(STREET))
    page.goto(f"{portal.url}/quality")
    form = page.get_by_role("region", name="发起核对")
    form.get_by_label("户籍、常住居民缺少联系电话").check()
    form.get_by_label("名称").fill("冬季电话核对")
    form.get_by_label("截止日期").fill("2099-12-20")
    form.get_by_role("button", name="发起核对").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("heading", name="冬季电话核对").is_visible()
    assert "户籍、常住居民缺少联系电话" in page.locator("main").inner_text()
    assert page.locator("table.data tbody tr", has_text=portal.units[OTHER].name).count() == 1
    shoot(page, "quality-round")


def test_a_district_adds_a_rule_and_a_bad_one_is_explained(browser_page, portal, planted):
    page = browser_page
    log_in(page, portal, portal.actors.district_admin("310115000000"))
    page.goto(f"{portal.url}/quality/rules")
    form = page.get_by_role("region", name="新增或修改规则")
    form.get_by_label("规则编码").fill("pudong_age_over_100")
    form.get_by_label("规则名称").fill("年龄超过 100 岁")
    form.get_by_label("参数（JSON）").fill('{"years": "一百"}')
    form.get_by_label("检查方式").select_option("age_over")
    form.get_by_label("如何改正").fill("核对出生日期，健在的百岁老人请标记核实无误。")
    form.get_by_role("button", name="保存规则").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("alert").inner_text().startswith("规则未保存：参数 years：应为整数")
    shoot(page, "quality-rule-refused")

    page.get_by_label("参数（JSON）").fill('{"years": 100}')
    page.get_by_role("button", name="保存规则").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("status").inner_text().startswith("规则已保存")
    assert page.locator("table.data tbody tr", has_text="pudong_age_over_100").count() == 1
    shoot(page, "quality-rules")
