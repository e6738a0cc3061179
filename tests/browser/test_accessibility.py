"""适老化 and accessibility of the main pages, checked in a real browser.

Each page is checked by axe-core (WCAG 2.1 A and AA rules; vendored in ``vendor/``, evaluated in
the page, never served by the portal), for tap targets of at least 44×44 CSS px at phone width,
for reflow at 320 CSS px (a 1280 px window at 400 % zoom) and in 大字模式.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from shequyun_sdk.testing.browser import PHONE
from sqlmodel import Session

from ..portal.test_collection_pages import ELEVATOR
from ..residents._data import id_number, resident
from .conftest import log_in, shoot

AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

#: Controls a finger must hit. Links inside running text are exempt (WCAG 2.5.5's inline case),
#: and so are controls clipped out of sight (a form's default button for the Enter key).
TARGETS = """
() => [...document.querySelectorAll(
    'button, select, summary, a.button, nav a, .account a, table a, '
    + 'input:not([type=hidden]):not([type=radio]):not([type=checkbox]), label.choice')]
  .filter(e => e.offsetParent !== null && !e.closest('.skip, .sr-only, .visually-hidden'))
  .map(e => { const r = e.getBoundingClientRect();
              return {what: e.outerHTML.slice(0, 90), w: Math.round(r.width), h: Math.round(r.height)}; })
  .filter(t => t.w < 44 || t.h < 44)
"""


def axe_violations(page: Any) -> list[dict[str, Any]]:
    # Evaluated, not added as a <script>: the portal's page policy rightly refuses inline scripts.
    page.evaluate(AXE)
    found = page.evaluate(
        "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}}))"
        ".violations.map(v => ({id: v.id, help: v.help,"
        " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))",
        WCAG,
    )
    return list(found)


def check(page: Any, url: str, name: str) -> None:
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(url)
    assert axe_violations(page) == [], f"{url}: axe at 1366 px"
    page.set_viewport_size(PHONE)
    page.goto(url)
    assert axe_violations(page) == [], f"{url}: axe at 390 px"
    small = page.evaluate(TARGETS)
    assert small == [], (
        f"{url}: tap targets under 44×44 px: {json.dumps(small, ensure_ascii=False)}"
    )
    # A worker's navigation, folded behind 菜单 on a phone, is checked open as well.
    menu = page.get_by_role("button", name="菜单")
    if menu.count():
        menu.click()
    assert axe_violations(page) == [], f"{url}: axe at 390 px, menu open"
    small = page.evaluate(TARGETS)
    assert small == [], (
        f"{url}: tap targets under 44×44 px in the menu: {json.dumps(small, ensure_ascii=False)}"
    )
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto(url)
    if menu.count():
        menu.click()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320, f"{url}: scrolls sideways at 320 px ({width} px wide)"
    shoot(page, f"a11y-{name}")


@pytest.fixture(scope="module")
def someone(portal) -> int:
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
            resident(
                name="吴淑珍",
                id_number=id_number(born="19420808", serial="241"),
                tags=["独居老人"],
                address={"compound": "潍坊一村", "building": "3", "entrance": "2", "room": "501"},
            ),
            source="portal",
        )
        session.commit()
        return created.id


def test_the_public_pages(browser_page, portal):
    for path, name in (("/", "home"), ("/login", "login")):
        check(browser_page, f"{portal.url}{path}", name)


def test_a_cadres_pages(browser_page, portal, someone):
    log_in(browser_page, portal, portal.actors.cadre("310115004001"))
    for path, name in (
        ("/workbench", "workbench"),
        ("/residents", "residents"),
        (f"/residents/{someone}", "resident"),
        (f"/residents/{someone}/edit", "resident-edit"),
        ("/residents/import", "residents-import"),
        ("/collection/tasks", "tasks"),
        ("/notices", "notices"),
    ):
        check(browser_page, f"{portal.url}{path}", name)


def test_an_admins_pages(browser_page, portal):
    log_in(browser_page, portal, portal.actors.street_admin("310115004000"))
    for path, name in (
        ("/admin", "admin"),
        ("/admin/users", "admin-users"),
        ("/admin/audit", "admin-audit"),
        ("/admin/users/import", "admin-users-import"),
        ("/quality", "quality"),
    ):
        check(browser_page, f"{portal.url}{path}", name)


def test_a_bureaus_pages(browser_page, portal):
    log_in(browser_page, portal, portal.actors.bureau())
    for path, name in (
        ("/collection/forms", "forms"),
        ("/collection/campaigns", "campaigns"),
        ("/collection/campaigns/new", "campaign-new"),
    ):
        check(browser_page, f"{portal.url}{path}", name)
    # A street's 「n 个下级」 opens by its visible words: its name holds them whole (WCAG 2.5.3).
    from shequyun.identity.models import Grant, OrgUnit, User

    district = portal.actors.district_admin("310115000000")
    kernel = portal.kernel
    with Session(kernel.engine) as session:
        grant = session.get(Grant, district.grant.id)
        user = session.get(User, district.user.id)
        actor = kernel.authenticator.actor_for(
            user, grant, session.get(OrgUnit, grant.unit_id), "session"
        )
        form = kernel.collection.forms.create(session, actor, {"title": "独居老人走访", **ELEVATOR})
        session.flush()
        kernel.collection.forms.publish(session, actor, form.id, 1)
        session.commit()
    log_in(browser_page, portal, district)
    browser_page.goto(f"{portal.url}/collection/campaigns/new")
    summaries = browser_page.locator(".target-tree summary")
    assert summaries.count() > 0
    for summary in summaries.all():
        seen = summary.evaluate(  # the words drawn on screen: not the hidden name before them
            "s => [...s.childNodes].filter(n => n.nodeType === 3).map(n => n.data).join('').trim()"
        )
        assert summary.get_attribute("aria-label") is None, seen
        expect(summary).to_have_accessible_name(re.compile(f"\\S+：\\s*{re.escape(seen)}\\s*$"))
    # Sent without a unit to reach: the summary's problem leads into the group's first checkbox.
    page = browser_page
    page.locator("#f-form_version").select_option(index=1)
    page.locator("#f-deadline").fill("2099-12-01T18:00")
    with page.expect_navigation():
        page.get_by_role("button", name="下发").click()
    expect(page.locator(".error-summary")).to_be_focused()
    page.locator('.error-summary a[href="#f-targets"]').click()
    expect(page.locator("input[name=targets]").first).to_be_focused()


def test_elder_mode_sets_large_text_and_is_remembered(browser_page, portal):
    page = browser_page
    log_in(page, portal, portal.actors.cadre("310115004001"))
    page.goto(f"{portal.url}/residents")
    with page.expect_navigation():
        page.get_by_role("button", name="大字模式").click()
    assert page.url.endswith("/residents")
    size = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert size >= 24  # 18 pt
    page.goto(f"{portal.url}/workbench")
    assert page.evaluate("document.documentElement.classList.contains('large-text')")
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shoot(page, "a11y-elder-workbench")
    page.get_by_role("button", name="菜单").click()  # on a phone the switch is in the menu
    with page.expect_navigation():
        page.get_by_role("button", name="标准字号").click()
    assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") == 16


def test_the_form_builder(browser_page, portal):
    page = browser_page
    log_in(page, portal, portal.actors.bureau())
    check(page, f"{portal.url}/collection/forms/new", "form-builder")
    # with questions that bring their own controls: choices and a repeating table
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"{portal.url}/collection/forms/new")
    for number, kind in ((2, "单选"), (3, "表格（每行填一组，可加行）")):
        page.locator("#add_kind").select_option(label=kind)
        page.get_by_role("button", name="＋ 添加").click()  # redrawn by script, or a page load
        expect(page.locator(f"#q-{number}-label")).to_be_visible()
    page.locator("#q-2-choices").fill("独居\n与子女同住")
    assert axe_violations(page) == [], "form builder with questions: axe at 1366 px"
    page.set_viewport_size(PHONE)
    assert axe_violations(page) == [], "form builder with questions: axe at 390 px"
    small = page.evaluate(TARGETS)
    assert small == [], json.dumps(small, ensure_ascii=False)
    shoot(page, "a11y-form-builder-questions")


#: The contrast of the focused element's ring against the nearest background drawn behind it.
RING_CONTRAST = """
() => {
  const e = document.activeElement;
  const rgb = c => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = c => { const v = rgb(c).slice(0, 3).map(x => { x /= 255;
      return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4); });
    return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2]; };
  // What is drawn where the ring is: just outside the element's left (or right) edge.
  const ring = getComputedStyle(e), r = e.getBoundingClientRect();
  const gap = parseFloat(ring.outlineOffset) + parseFloat(ring.outlineWidth) / 2;
  const x = r.left - gap > 0 ? r.left - gap : r.right + gap;
  const under = document.elementsFromPoint(x, r.top + r.height / 2).find(o => o !== e && !e.contains(o));
  let p = under || e.parentElement, bg = "rgb(255, 255, 255)";
  for (; p; p = p.parentElement) {
    const b = getComputedStyle(p).backgroundColor, a = rgb(b);
    if (a.length === 3 || a[3] > 0.5) { bg = b; break; }
  }
  if (ring.outlineStyle === "none") return 0;
  const [fg, back] = [lum(ring.outlineColor), lum(bg)];
  return (Math.max(fg, back) + 0.05) / (Math.min(fg, back) + 0.05);
}
"""


def test_the_focus_ring_stands_out_on_the_red_header_too(browser_page, portal):
    """Every stop of a keyboard walk through the header and the page shows a ring of at least
    3:1 against what is behind it (WCAG 1.4.11): the blue ring was 1.3:1 on the red header."""
    page = browser_page
    log_in(page, portal, portal.actors.cadre("310115004001"))
    for size in ({"width": 1366, "height": 900}, PHONE):
        page.set_viewport_size(size)
        page.goto(f"{portal.url}/residents")
        stops = []
        for _ in range(12):
            page.keyboard.press("Tab")
            stops.append(
                (
                    page.evaluate("document.activeElement.outerHTML.slice(0, 60)"),
                    page.evaluate(RING_CONTRAST),
                )
            )
        assert any("brand" in what for what, _ in stops), stops  # the walk crossed the header
        faint = [(what, round(ratio, 2)) for what, ratio in stops if ratio < 3]
        assert faint == [], f"{size}: focus rings under 3:1: {faint}"


def test_the_walls_focus_ring_stands_out_on_its_dark_screen(browser_page, portal):
    """The 大屏 has its own stylesheet: its pause button and exit link showed the browser's thin
    default ring on dark navy."""
    page = browser_page
    log_in(page, portal, portal.actors.district_admin("310115000000"))
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(f"{portal.url}/indicators/u/310115000000/wall")
    for name in ("暂停刷新", "退出大屏"):
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent.trim()") == name
        assert page.evaluate(RING_CONTRAST) >= 3, name


def test_a_form_sent_back_with_errors_puts_the_focus_on_what_to_fix(browser_page, portal, someone):
    page = browser_page
    log_in(page, portal, portal.actors.cadre("310115004001"))
    page.set_viewport_size(PHONE)
    page.goto(f"{portal.url}/residents/{someone}/edit")
    page.get_by_label("姓名").fill("")
    page.locator("#f-phone").fill("12345")
    with page.expect_navigation():
        page.get_by_role("button", name="保存").click()
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()  # a screen reader reads the list out from there
    # Following a problem in the list lands in its field, ready to type (not only scrolled to).
    summary.get_by_role("link", name=re.compile("^电话")).click()
    expect(page.locator("#f-phone")).to_be_focused()
    assert page.locator("#f-phone").get_attribute("aria-invalid") == "true"
    shoot(page, "a11y-errors-followed")
    # A page without a summary puts the focus on its first field marked invalid.
    page.context.clear_cookies()
    page.goto(f"{portal.url}{INTERACTION}/signup")
    page.get_by_label("手机号").fill("13812340099")
    page.get_by_label("设置密码").fill("Resident-pass-1")
    page.get_by_label("再次输入密码").fill("Resident-pass-2")
    with page.expect_navigation():
        page.get_by_role("button", name="注册").click()
    again = page.get_by_label("再次输入密码")
    expect(again).to_be_focused()
    assert again.get_attribute("aria-invalid") == "true"
    border = page.evaluate("getComputedStyle(document.activeElement).borderTopColor")
    assert border == "rgb(185, 28, 28)"  # marked in red, not by the words under it alone


INTERACTION = "/plugins/interaction"


@pytest.fixture(scope="module")
def neighbour(portal) -> dict[str, Any]:
    """A resident of 潍坊一村 (with a phone on the record) and an open topic of their committee."""
    from starlette.testclient import TestClient

    api = TestClient(portal.app)
    cadre = portal.actors.cadre("310115004001")
    made = api.post(
        "/api/v1/residents",
        headers=cadre.auth,
        json=resident(
            name="顾美玲",
            id_number=id_number(born="19560312", serial="262"),
            phone="13812349876",
            tags=[],
        ),
    )
    assert made.status_code == 201, made.text
    topic = api.post(
        "/api/v1/plugins/interaction/manage/topics",
        headers=cadre.auth,
        json={
            "title": "小区停车位划线意见征询",
            "body": "拟在潍坊一村东门内侧划出 20 个车位，请居民表决。",
            "options": ["同意", "不同意"],
            "rule": "resident",
            "scope_kind": "committee",
            "closes_on": "2099-12-31",
            "allow_abstain": True,
        },
    )
    assert topic.status_code == 201, topic.text
    return {
        "name": "顾美玲",
        "id_number": id_number(born="19560312", serial="262"),
        "phone": "13812349876",
        "topic": topic.json()["id"],
    }


def test_the_resident_pages_of_the_interaction_plugin(browser_page, portal, neighbour):
    page = browser_page
    base = f"{portal.url}{INTERACTION}"
    for path, name in (
        ("/", "ix-home-anonymous"),
        ("/?unit=310115004000", "ix-home-street-chosen"),  # the place picker, a street's step
        ("/disclosures?unit=310115004001", "ix-disclosures-anonymous"),
        ("/login", "ix-login"),
        ("/password", "ix-password"),
        ("/signup", "ix-signup"),
    ):
        check(page, f"{base}{path}", name)
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"{base}/signup")
    page.get_by_label("手机号").fill(neighbour["phone"])
    page.get_by_label("设置密码").fill("Resident-pass-1")
    page.get_by_label("再次输入密码").fill("Resident-pass-1")
    page.get_by_role("button", name="注册").click()
    page.wait_for_url(f"**{INTERACTION}/verify")
    check(page, f"{base}/verify", "ix-verify")
    page.get_by_label("姓名", exact=True).fill(neighbour["name"])
    page.get_by_label("身份证号").fill(neighbour["id_number"])
    page.get_by_role("button", name="核验", exact=True).click()
    page.get_by_text("实名核验成功").wait_for()
    for path, name in (
        ("/", "ix-home"),
        ("/topics", "ix-topics"),
        (f"/topics/{neighbour['topic']}", "ix-topic"),
        ("/requests", "ix-requests"),
        ("/posts", "ix-posts"),
        ("/disclosures", "ix-disclosures"),
        ("/notifications", "ix-notifications"),
    ):
        check(page, f"{base}{path}", name)
        named_once_with_one_way_out(page, f"{base}{path}", neighbour["name"])
    shoot(page, "ix-signed-in-header")
    # 退出 by keyboard alone, on a phone: Tab to it, Enter.
    page.set_viewport_size(PHONE)
    page.goto(f"{base}/topics")
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "退出":
            break
    else:
        raise AssertionError("Tab never reached 退出")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    way_in = page.get_by_role("link", name="居民登录")
    expect(way_in).to_be_visible()
    box = way_in.bounding_box()  # an older resident's way in is a full-size target
    assert box is not None and box["height"] >= 44 and box["width"] >= 44, box
    expect(page.get_by_role("button", name="退出")).to_have_count(0)


def named_once_with_one_way_out(page: Any, url: str, name: str) -> None:
    """A signed-in resident sees their name once and one 退出 (the portal's header has both;
    the plugin's bar adds only their committee), at desktop and phone width."""
    for size in ({"width": 1366, "height": 900}, PHONE):
        page.set_viewport_size(size)
        page.goto(url)
        out = page.get_by_role("button", name="退出")
        expect(out).to_have_count(1)
        expect(out).to_be_visible()
        assert page.locator("body").inner_text().count(name) == 1, f"{url} at {size}"


def test_a_residents_elder_mode_follows_them_to_another_phone(browser_page, portal):
    """Chosen on one phone by a signed-in resident, 大字模式 is there on the next phone they
    sign in with, though that browser never chose it."""
    from starlette.testclient import TestClient

    api = TestClient(portal.app)
    phone, password = "13812340077", "Resident-pass-2"
    made = api.post(
        "/api/v1/residents",
        headers=portal.actors.cadre("310115004001").auth,
        json=resident(
            name="沈阿婆", id_number=id_number(born="19400101", serial="284"), phone=phone
        ),
    )
    assert made.status_code == 201, made.text
    signed = api.post(
        f"/api/v1{INTERACTION}/auth/signup", json={"phone": phone, "password": password}
    )
    assert signed.status_code == 201, signed.text

    def sign_in(page: Any) -> None:
        page.goto(f"{portal.url}{INTERACTION}/login")
        page.get_by_label("手机号").fill(phone)
        page.get_by_label("密码", exact=True).fill(password)
        with page.expect_navigation():
            page.get_by_role("button", name="登录").click()
        expect(page.get_by_role("button", name="退出").first).to_be_visible()

    page = browser_page
    page.set_viewport_size(PHONE)
    sign_in(page)
    with page.expect_navigation():
        page.get_by_role("button", name="大字模式").click()
    assert page.evaluate("document.documentElement.classList.contains('large-text')")
    page.context.clear_cookies()  # another phone
    page.goto(f"{portal.url}{INTERACTION}/login")
    assert not page.evaluate("document.documentElement.classList.contains('large-text')")
    sign_in(page)
    assert page.evaluate("document.documentElement.classList.contains('large-text')")
    assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= 24
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shoot(page, "a11y-elder-resident")


def test_on_a_phone_the_navigation_folds_behind_one_button(browser_page, portal):
    page = browser_page
    log_in(page, portal, portal.actors.cadre("310115004001"))
    page.set_viewport_size(PHONE)
    page.goto(f"{portal.url}/residents")
    menu = page.get_by_role("button", name="菜单")
    nav = page.get_by_role("navigation", name="主导航")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(nav).to_be_hidden()
    # The page's own heading starts within the first fifth of the screen.
    heading = page.get_by_role("heading", name="居民信息", level=1).bounding_box()
    assert heading is not None and heading["y"] < PHONE["height"] / 5

    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(nav.get_by_role("link", name="我的填报")).to_be_visible()
    expect(page.get_by_role("button", name="退出")).to_be_visible()
    page.keyboard.press("Escape")
    expect(nav).to_be_hidden()
    expect(menu).to_be_focused()

    # By keyboard: Enter opens it, and the links follow the button in tab order.
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('nav') !== null")
    with page.expect_navigation():
        nav.get_by_role("link", name="我的填报").click()
    assert page.url.endswith("/collection/tasks")


def test_a_residents_short_header_does_not_fold(browser_page, portal):
    page = browser_page
    page.set_viewport_size(PHONE)
    page.goto(f"{portal.url}{INTERACTION}/")
    expect(page.get_by_role("button", name="菜单")).to_have_count(0)
    expect(page.get_by_role("button", name="大字模式")).to_be_visible()
    # The header's way in is named for staff: a resident's is the bar's 居民登录 below it.
    expect(page.get_by_role("link", name="工作人员登录")).to_be_visible()
    expect(page.get_by_role("link", name="登录", exact=True)).to_have_count(0)
    way_in = page.get_by_role("link", name="居民登录")
    expect(way_in).to_be_visible()
    box = way_in.bounding_box()  # an older resident's way in is a full-size target
    assert box is not None and box["height"] >= 44 and box["width"] >= 44, box


def test_on_a_wide_screen_there_is_no_menu_button(browser_page, portal):
    page = browser_page
    log_in(page, portal, portal.actors.cadre("310115004001"))
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"{portal.url}/residents")
    expect(page.get_by_role("button", name="菜单")).to_be_hidden()
    expect(
        page.get_by_role("navigation", name="主导航").get_by_role("link", name="居民信息")
    ).to_be_visible()
