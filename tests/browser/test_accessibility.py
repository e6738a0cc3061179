"""适老化 and accessibility of the main pages, checked in a real browser.

Each page is checked by axe-core (WCAG 2.1 A and AA rules; vendored in ``vendor/``, evaluated in
the page, never served by the portal), for tap targets of at least 44×44 CSS px at phone width,
for reflow at 320 CSS px (a 1280 px window at 400 % zoom) and in 大字模式.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from shequyun_sdk.testing.browser import PHONE
from sqlmodel import Session

from ..residents._data import id_number, resident
from .conftest import log_in, shoot

AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

#: Controls a finger must hit. Links inside running text are exempt (WCAG 2.5.5's inline case).
TARGETS = """
() => [...document.querySelectorAll(
    'button, select, summary, a.button, nav a, .account a, table a, '
    + 'input:not([type=hidden]):not([type=radio]):not([type=checkbox]), label.choice')]
  .filter(e => e.offsetParent !== null && !e.closest('.skip'))
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
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto(url)
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
    ):
        check(browser_page, f"{portal.url}{path}", name)


def test_a_bureaus_pages(browser_page, portal):
    log_in(browser_page, portal, portal.actors.bureau())
    for path, name in (("/collection/forms", "forms"), ("/collection/campaigns", "campaigns")):
        check(browser_page, f"{portal.url}{path}", name)


def test_elder_mode_sets_large_text_and_is_remembered(browser_page, portal):
    page = browser_page
    log_in(page, portal, portal.actors.cadre("310115004001"))
    page.goto(f"{portal.url}/residents")
    with page.expect_navigation():
        page.get_by_role("link", name="大字模式").click()
    assert page.url.endswith("/residents")
    size = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert size >= 24  # 18 pt
    page.goto(f"{portal.url}/workbench")
    assert page.evaluate("document.documentElement.classList.contains('large-text')")
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shoot(page, "a11y-elder-workbench")
    with page.expect_navigation():
        page.get_by_role("link", name="标准字号").click()
    assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") == 16
