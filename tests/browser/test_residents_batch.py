"""批量操作 on the residents list in a real browser, on a phone and with the keyboard: tick
residents, tag them, download a selection; nothing ticked is said on the page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from shequyun_sdk.testing.browser import PHONE
from sqlmodel import Session

from ..residents._data import id_number, resident
from .conftest import log_in, shoot

UNIT = "310115004001"


@pytest.fixture(scope="module")
def seeded(portal) -> dict[str, int]:
    from shequyun.identity.models import Grant, OrgUnit, User

    kernel = portal.kernel
    clerk = portal.actors.cadre(UNIT)
    ids = {}
    with Session(kernel.engine, expire_on_commit=False) as session:
        grant = session.get(Grant, clerk.grant.id)
        user = session.get(User, clerk.user.id)
        unit = session.get(OrgUnit, grant.unit_id)
        actor = kernel.authenticator.actor_for(user, grant, unit, "session")
        for name, serial in (("王秀英", "124"), ("李建国", "135"), ("张美华", "146")):
            made = kernel.residents.create(
                session,
                actor,
                resident(name=name, id_number=id_number(serial=serial), tags=[]),
                source="portal",
            )
            session.flush()
            ids[name] = made.id
        session.commit()
    return ids


def test_a_cadre_on_a_phone_tags_the_whole_page_with_the_keyboard(browser_page, portal, seeded):
    page = browser_page
    page.set_viewport_size(PHONE)
    log_in(page, portal, portal.actors.cadre(UNIT))
    page.goto(f"{portal.url}/residents?sort=name")
    count = page.locator("[data-batch-count]")
    expect(count).to_have_text("已选 0 人")

    # nothing ticked: said on the page, no round trip
    page.get_by_role("button", name="执行").click()
    expect(page.get_by_role("alert")).to_have_text("请先勾选至少一位居民。")
    assert page.url.endswith("/residents?sort=name")

    page.get_by_role("checkbox", name="选择 李建国").focus()
    page.keyboard.press("Space")
    expect(count).to_have_text("已选 1 人")
    page.get_by_role("checkbox", name="全选本页").focus()
    page.keyboard.press("Space")
    expect(count).to_have_text("已选 3 人")
    page.get_by_label("操作").select_option(label="加上标签")
    page.get_by_label("选择标签").select_option("重点关注")
    shoot(page, "residents-batch-ticked")
    page.get_by_role("button", name="执行").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_text("已为 3 位居民更新标签。")).to_be_visible()
    assert "sort=name" in page.url  # back where the cadre was
    expect(page.locator("table.residents .badge", has_text="重点关注")).to_have_count(3)
    shoot(page, "residents-batch-done")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"]


def test_a_selection_goes_to_the_download_page(browser_page, portal, seeded):
    page = browser_page
    log_in(page, portal, portal.actors.cadre(UNIT))
    page.goto(f"{portal.url}/residents")
    page.get_by_role("checkbox", name="选择 张美华").check()
    page.get_by_label("操作").select_option(label="下载所选居民")
    expect(page.locator("[data-batch-tag]")).to_be_hidden()  # no tag for a download
    page.get_by_role("button", name="执行").click()
    expect(page.get_by_text("在名单中勾选：1 人")).to_be_visible()
    expect(page.get_by_text("将下载 1 位居民。")).to_be_visible()
    assert page.url.endswith(f"/residents/export?id={seeded['张美华']}")
    shoot(page, "residents-batch-export")


def test_a_refused_batch_lists_the_resident_that_stopped_it(browser_page, portal, seeded):
    page = browser_page
    log_in(page, portal, portal.actors.cadre(UNIT))
    page.goto(f"{portal.url}/residents")
    page.get_by_role("checkbox", name="选择 王秀英").check()
    page.get_by_role("checkbox", name="选择 李建国").check()
    with Session(portal.kernel.engine) as session:  # removed meanwhile, by a colleague
        from shequyun.residents.models import Resident

        gone = session.get(Resident, seeded["王秀英"])
        gone.status = "removed"
        session.add(gone)
        session.commit()
    page.get_by_label("操作").select_option(label="加上标签")
    page.get_by_label("选择标签").select_option("党员")
    page.get_by_role("button", name="执行").click()
    expect(page.get_by_role("heading", name="有 1 位居民无法处理，未做任何修改")).to_be_visible()
    row = page.locator("table.report tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("王秀英")
    expect(row).to_contain_text("该居民已注销")
    shoot(page, "residents-batch-refused")
    page.get_by_role("button", name="只为其余 1 位居民执行").click()
    expect(page.get_by_text("已为 1 位居民更新标签。")).to_be_visible()
