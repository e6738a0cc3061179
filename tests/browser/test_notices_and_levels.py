"""A street admin finds the city's campaign; a cadre sees the reminder the bureau sent."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import log_in, shoot
from .test_collection import log_out, open_through_services

COMMITTEE = "310115004001"


@pytest.fixture(scope="module")
def city_campaign(portal):
    bureau = portal.actors.bureau()
    cadre = portal.actors.cadre(COMMITTEE)  # an account before the campaign: it gets the notices
    _form_id, campaign_id = open_through_services(
        portal, bureau, "全市加装电梯摸底", ["310000000000"]
    )
    portal.kernel.events.drain()  # what the worker does: the new-task notices
    return {"id": campaign_id, "bureau": bureau, "cadre": cadre}


def test_a_street_admin_sees_the_city_campaign_with_only_their_streets_progress(
    browser_page, portal, city_campaign
):
    page = browser_page
    log_in(page, portal, portal.actors.street_admin("310115004000"))
    page.get_by_role("link", name="采集管理").click()
    row = page.locator("tr").filter(has_text="全市加装电梯摸底")
    assert "上级下发" in row.inner_text() and "0/2" in row.inner_text()
    shoot(page, "campaigns-street-admin")
    row.get_by_role("link", name="全市加装电梯摸底").click()
    table = page.locator(".progress-table").inner_text()
    assert "潍坊一村居委会" in table and "梅园一村居委会" not in table
    pending = page.locator(".pending-list").inner_text()
    assert "浦东新区 › 潍坊新村街道 › 潍坊一村居委会" in pending
    shoot(page, "campaign-street-admin")


def test_a_cadre_sees_a_reminder_notice_after_the_bureau_sends_one(
    browser_page, portal, city_campaign
):
    page = browser_page
    log_in(page, portal, city_campaign["bureau"])
    page.goto(f"{portal.url}/collection/campaigns/{city_campaign['id']}")
    page.get_by_role("button", name="发送提醒").click()
    assert "已向 5 个尚未提交的单位发送提醒" in page.get_by_role("status").inner_text()
    log_out(page)
    portal.kernel.events.drain()  # the worker delivers collection.reminder to the notices

    log_in(page, portal, city_campaign["cadre"])
    link = page.locator(".notices-link")
    expect(link).to_contain_text("2")  # the new task and the reminder
    shoot(page, "notices-header")
    link.click()
    item = page.locator(".notice-item").filter(has_text="催报提醒：全市加装电梯摸底")
    expect(item).to_be_visible()
    assert "未读" in item.inner_text()
    shoot(page, "notices")
    item.get_by_role("button").click()
    assert re.search(r"/collection/tasks/\d+$", page.url)
    expect(page.locator(".notices-link")).to_contain_text("1")
