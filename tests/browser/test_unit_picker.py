"""The unit picker in a real browser: a cadre finds where a resident moves by name, an admin
drills down 区 › 街镇 › 居委 on a phone; the form sends the unit's code either way."""

from __future__ import annotations

from playwright.sync_api import expect
from shequyun_sdk.testing.browser import PHONE
from sqlmodel import Session

from ..residents._data import id_number, resident
from .conftest import log_in, shoot


def _register(portal) -> int:
    from shequyun.identity.models import Grant, OrgUnit, User

    kernel = portal.kernel
    clerk = portal.actors.cadre("310115004001")
    with Session(kernel.engine, expire_on_commit=False) as session:
        grant = session.get(Grant, clerk.grant.id)
        user = session.get(User, clerk.user.id)
        unit = session.get(OrgUnit, grant.unit_id)
        actor = kernel.authenticator.actor_for(user, grant, unit, "session")
        created = kernel.residents.create(
            session,
            actor,
            resident(name="赵丽", id_number=id_number(born="19700101", serial="211")),
            source="portal",
        )
        session.commit()
        return created.id


def test_a_cadre_finds_the_committee_a_resident_moves_to_by_its_name(browser_page, portal):
    page = browser_page
    resident_id = _register(portal)
    log_in(page, portal, portal.actors.cadre("310115004001"))
    page.goto(f"{portal.url}/residents/{resident_id}/transfer")
    box = page.get_by_role("combobox", name="迁入居委")
    box.fill("建国西路")
    option = page.get_by_role("option", name="建国西路居委会")
    option.wait_for()
    assert "徐汇区 › 天平路街道" in option.inner_text()
    box.press("ArrowDown")
    box.press("Enter")
    picked = page.locator(".unit-picker-picked")
    assert picked.inner_text() == "已选：徐汇区 › 天平路街道 › 建国西路居委会（310104003002）"
    shoot(page, "unit-picker-transfer")
    page.get_by_role("button", name="确认迁出").click()
    page.wait_for_load_state("networkidle")
    from shequyun.residents.models import Resident

    with Session(portal.kernel.engine) as session:
        moved = session.get(Resident, resident_id)
        assert moved.unit_id == portal.units["310104003002"].id


def test_an_admin_on_a_phone_drills_down_to_a_committee(browser_page, portal):
    page = browser_page
    page.set_viewport_size(PHONE)
    log_in(page, portal, portal.actors.district_admin("310115000000"))
    page.goto(f"{portal.url}/admin/users/new")
    page.get_by_role("button", name="逐级选择").first.click()
    page.get_by_role("button", name="潍坊新村街道 的下级（2）").click()
    page.get_by_role("button", name="选择 潍坊二村居委会").click()
    assert page.locator("input[name=home_unit_code]").input_value() == "310115004002"
    assert (
        "浦东新区 › 潍坊新村街道 › 潍坊二村居委会"
        in page.locator(".unit-picker-picked").first.inner_text()
    )
    # Nothing sticks out sideways on the phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.get_by_role("button", name="逐级选择").first.click()
    page.get_by_role("button", name="潍坊新村街道 的下级（2）").click()
    shoot(page, "unit-picker-drill")


def test_a_district_finds_one_committees_residents_with_the_picker(
    browser_page, portal, monkeypatch
):
    """Above PICKER_ABOVE committees the resident list's committee filter is the picker (the
    demo city has 6,077); lowered here so that the test town's three qualify."""
    from shequyun.residents import pages as residents_pages

    monkeypatch.setattr(residents_pages, "PICKER_ABOVE", 1)
    from shequyun.identity.models import Grant, OrgUnit, User

    kernel = portal.kernel
    for code, name, serial in (("310115004001", "孙梅", "221"), ("310115004002", "钱芳", "222")):
        clerk = portal.actors.cadre(code)
        with Session(kernel.engine) as session:
            grant = session.get(Grant, clerk.grant.id)
            user, unit = session.get(User, clerk.user.id), session.get(OrgUnit, grant.unit_id)
            kernel.residents.create(
                session,
                kernel.authenticator.actor_for(user, grant, unit, "session"),
                resident(name=name, id_number=id_number(born="19800101", serial=serial)),
                source="portal",
            )
            session.commit()
    page = browser_page
    log_in(page, portal, portal.actors.district_admin("310115000000"))
    page.goto(f"{portal.url}/residents")
    expect(page.locator(".result-count")).to_contain_text("共")
    page.get_by_text("更多筛选条件").click()
    box = page.get_by_role("combobox", name="所属单位")
    box.fill("潍坊二村")
    page.get_by_role("option", name="潍坊二村居委会").click()
    page.get_by_role("button", name="筛选").click()
    expect(page.locator(".result-count")).to_contain_text("共 1 人")
    assert "unit=310115004002" in page.url
    expect(page.get_by_role("link", name="钱芳")).to_be_visible()
    shoot(page, "unit-picker-resident-list")
    # A street is a choice too, and stands for every committee beneath it.
    if not page.get_by_role("combobox", name="所属单位").is_visible():
        page.get_by_text("更多筛选条件").click()
    box = page.get_by_role("combobox", name="所属单位")
    box.fill("潍坊新村")
    page.get_by_role("option", name="潍坊新村街道").click()
    page.get_by_role("button", name="筛选").click()
    expect(page.locator(".result-count")).to_contain_text("共 2 人")
    assert "unit=310115004000" in page.url
    expect(page.get_by_role("link", name="孙梅")).to_be_visible()
