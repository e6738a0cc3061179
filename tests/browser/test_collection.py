"""One-click collection in a real browser: a cadre fills a task, the publisher sees it move."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session

from ..portal.test_collection_pages import ELEVATOR
from .conftest import log_in, shoot

STREET = "310115004000"
COMMITTEE = "310115004001"


def actor_of(kernel, test_actor):
    from shequyun.identity.models import Grant, OrgUnit, User

    with Session(kernel.engine) as session:
        grant = session.get(Grant, test_actor.grant.id)
        user = session.get(User, test_actor.user.id)
        unit = session.get(OrgUnit, grant.unit_id)
        return kernel.authenticator.actor_for(user, grant, unit, "session")


def open_through_services(portal, bureau, title, targets, **campaign):
    """A form (the elevator survey) published and sent through the services, as the bureau."""
    kernel = portal.kernel
    actor = actor_of(kernel, bureau)
    with Session(kernel.engine, expire_on_commit=False) as session:
        form = kernel.collection.forms.create(session, actor, {"title": title, **ELEVATOR})
        session.flush()
        kernel.collection.forms.publish(session, actor, form.id, 1)
        opened = kernel.collection.campaigns.open(
            session,
            actor,
            {
                "form_id": form.id,
                "version": 1,
                "title": title,
                "deadline": (datetime.now(UTC) + timedelta(days=5)).isoformat(),
                "targets": list(targets),
                **campaign,
            },
        )
        session.commit()
    return form.id, opened.id


@pytest.fixture(scope="module")
def campaign(portal):
    """A city bureau's form sent to the two committees of 潍坊新村街道, through the services."""
    bureau = portal.actors.bureau()
    form_id, campaign_id = open_through_services(
        portal,
        bureau,
        "加装电梯意愿摸底",
        [STREET],
        instructions="请各居委于截止前如实填报本居委加装电梯意愿情况。",
    )
    return {"id": campaign_id, "form_id": form_id, "bureau": bureau}


def log_out(page):
    page.get_by_role("button", name="退出").click()
    page.wait_for_load_state("networkidle")


def test_a_cadre_fills_a_task_and_the_publisher_sees_progress_move(browser_page, portal, campaign):
    page = browser_page
    bureau = campaign["bureau"]
    dashboard = f"{portal.url}/collection/campaigns/{campaign['id']}"

    # The publisher looks first: nothing submitted yet.
    log_in(page, portal, bureau)
    page.get_by_role("link", name="采集管理").click()
    page.get_by_role("link", name="加装电梯意愿摸底").first.click()
    assert page.url.startswith(dashboard)
    assert "0/2" in page.locator(".progress-table").inner_text()
    page.goto(f"{portal.url}/collection/forms/{campaign['form_id']}")
    assert "第 1 版预览" in page.locator("main").inner_text()
    shoot(page, "collection-form")
    page.goto(f"{portal.url}/collection/campaigns/new")
    page.get_by_label("按居民名单逐人填写").check()  # the roster filter shows (a local script)
    assert page.get_by_label("最小年龄").is_visible()
    shoot(page, "collection-campaign-new")
    log_out(page)

    # The cadre finds the task, gets one field wrong, fixes it and submits.
    cadre = portal.actors.cadre(COMMITTEE)
    log_in(page, portal, cadre)
    page.get_by_role("link", name="我的填报").click()
    card = page.locator(".task-card").filter(has_text="加装电梯意愿摸底")
    assert "未开始" in card.inner_text()
    shoot(page, "collection-my-tasks")
    card.get_by_role("link", name=re.compile("开始填报")).click()
    page.get_by_label("本居委户数").fill("六百四十")
    page.get_by_role("radio", name="是").check()
    page.get_by_role("radio", name="方案设计").check()
    page.get_by_role("checkbox", name="费用").check()
    page.get_by_label("楼号（第 1 行）").fill("12")
    page.get_by_label("层数（第 1 行）").fill("6")
    page.get_by_role("button", name="添加一行").click()  # works without a script: a round trip
    page.get_by_label("楼号（第 2 行）").fill("15")
    page.get_by_label("层数（第 2 行）").fill("7")
    page.get_by_role("button", name="提交", exact=True).click()
    error = page.locator("#f-households-error")
    assert error.inner_text() == "请填写整数"
    assert page.get_by_label("本居委户数").get_attribute("aria-invalid") == "true"
    assert page.get_by_label("楼号（第 2 行）").input_value() == "15"  # nothing typed was lost
    shoot(page, "collection-fill-error")
    page.get_by_label("本居委户数").fill("640")
    page.get_by_role("button", name="提交", exact=True).click()
    assert "已提交，感谢您的填报" in page.get_by_role("status").inner_text()
    assert "640" in page.locator(".answers").inner_text()
    shoot(page, "collection-submitted")
    log_out(page)

    # The publisher reloads: 1 of 2, and drills down to the committees.
    log_in(page, portal, bureau)
    page.goto(dashboard)
    assert "1/2" in page.locator(".progress-table").inner_text()
    shoot(page, "collection-dashboard-district")
    page.get_by_role("link", name="浦东新区").click()
    page.get_by_role("link", name="潍坊新村街道").click()
    table = page.locator(".progress-table").inner_text()
    assert "潍坊一村居委会" in table and "潍坊二村居委会" in table
    assert "尚未提交（1）" in page.locator("#pending-title").inner_text()
    shoot(page, "collection-dashboard-committee")
    page.get_by_role("button", name="发送提醒").click()
    assert "已向 1 个尚未提交的单位发送提醒" in page.get_by_role("status").inner_text()
    page.get_by_role("link", name="汇总结果").click()
    assert "方案设计" in page.locator(".question-grid").inner_text()
    shoot(page, "collection-results")

    # The publisher returns the submission; the cadre sees why.
    page.goto(dashboard + f"?level=committee&within={STREET}")
    page.get_by_role("link", name="潍坊一村居委会").click()
    page.get_by_role("button", name="退回", exact=True).click()
    assert page.locator("#comment-error").is_visible()
    page.get_by_label("退回原因").fill("意向楼栋层数有误，请核实")
    page.get_by_role("button", name="退回", exact=True).click()
    assert "已退回" in page.get_by_role("status").inner_text()
    log_out(page)
    log_in(page, portal, cadre)
    page.goto(f"{portal.url}/collection/tasks")
    page.get_by_role("link", name=re.compile("继续填报")).click()
    assert "意向楼栋层数有误" in page.locator(".returned").inner_text()
    shoot(page, "collection-returned")


def test_another_districts_cadre_gets_404(browser_page, portal, campaign):
    page = browser_page
    outsider = portal.actors.cadre("310104003001")
    log_in(page, portal, outsider)
    response = page.goto(f"{portal.url}/collection/campaigns/{campaign['id']}")
    assert response.status == 404
    page.goto(f"{portal.url}/collection/tasks")
    assert "加装电梯" not in page.locator("main").inner_text()


def test_a_cadre_fills_a_roster_row_by_row(browser_page, portal):
    from ..portal.test_collection_pages import VISIT
    from ..residents._data import id_number, resident

    kernel = portal.kernel
    unit = "310115004002"
    cadre = portal.actors.cadre(unit)
    clerk = actor_of(kernel, cadre)
    bureau = actor_of(kernel, portal.actors.bureau())
    with Session(kernel.engine, expire_on_commit=False) as session:
        for serial, name, building in (
            ("214", "王秀英", "12"),
            ("224", "周桂芳", "3"),
            ("234", "陈阿大", "7"),
        ):
            kernel.residents.create(
                session,
                clerk,
                resident(
                    name=name,
                    id_number=id_number(born="19400101", serial=serial),
                    tags=["独居老人"],
                    address={
                        "compound": "潍坊二村",
                        "building": building,
                        "entrance": "1",
                        "room": "101",
                    },
                    household_number=None,
                ),
                source="import",
            )
        form = kernel.collection.forms.create(session, bureau, {"title": "独居老人走访", **VISIT})
        session.flush()
        kernel.collection.forms.publish(session, bureau, form.id, 1)
        kernel.collection.campaigns.open(
            session,
            bureau,
            {
                "form_id": form.id,
                "version": 1,
                "targets": [unit],
                "mode": "roster",
                "roster_filter": {"tags": ["独居老人"]},
                "deadline": (datetime.now(UTC) + timedelta(days=3)).isoformat(),
            },
        )
        session.commit()
    page = browser_page
    log_in(page, portal, cadre)
    page.goto(f"{portal.url}/collection/tasks")
    page.locator(".task-card").filter(has_text="独居老人走访").get_by_role(
        "link", name=re.compile("开始填报")
    ).click()
    page.get_by_label("是否已上门走访（王秀英）").select_option("true")
    page.get_by_label("居住情况（王秀英）").select_option("独居")
    page.get_by_label("是否已上门走访（周桂芳）").select_option("false")
    page.get_by_role("button", name="提交", exact=True).click()
    assert page.locator(".error-summary").is_visible()
    assert page.get_by_label("居住情况（周桂芳）").get_attribute("aria-invalid") == "true"
    shoot(page, "collection-roster-error")
    page.get_by_label("居住情况（周桂芳）").select_option("与子女同住")
    page.get_by_label("是否已上门走访（陈阿大）").select_option("true")
    page.get_by_label("居住情况（陈阿大）").select_option("与配偶同住")
    page.get_by_role("button", name="提交", exact=True).click()
    assert "已提交" in page.get_by_role("status").inner_text()
