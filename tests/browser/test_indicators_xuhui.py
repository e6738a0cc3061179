"""The 徐汇区 dashboard as its district head sees it on the demo's Shanghai: 13 streets side by
side, 天平路街道's committees below, on a phone, a desktop and the 1920×1080 wall.

The screenshots (``indicators-xuhui-*``) are for people to look at; the assertions check what
the pictures must show: every street in the comparison, ranked, the district's own figure as
the reference line, and the wall's tiles four across without scrolling.
"""

from __future__ import annotations

import re

import pytest
from sqlmodel import Session, select

from .conftest import SCREENSHOTS, log_in

XUHUI, TIANPING = "310104000000", "310104003000"
SIZES = {"phone": (390, 844), "desktop": (1366, 900), "1920": (1920, 1080)}


@pytest.fixture(scope="module")
def shanghai(portal):
    """The demo's org tree and residents (fewer per committee than ``shequyun demo``), and a
    district head on its 徐汇区."""
    from shequyun.identity import demo_data
    from shequyun.identity.models import OrgUnit
    from shequyun.residents import demo
    from shequyun.testing import Actors

    demo_data.load(portal.kernel)
    demo.load(portal.kernel, full=(60, 120), small=(2, 6))
    with Session(portal.kernel.engine, expire_on_commit=False) as session:
        units = {
            u.code: u for u in session.exec(select(OrgUnit).where(OrgUnit.level != "committee"))
        }
    actors = Actors(portal.kernel, portal.app, units)
    return actors.make("identity.district_admin", XUHUI, username="xuhui.head")


def shoot_at_every_width(page, name):
    for label, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{label}.png"), full_page=label != "1920")


def test_the_district_head_compares_13_streets_and_drills_into_one(browser_page, portal, shanghai):
    page = browser_page
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    log_in(page, portal, shanghai)
    page.goto(f"{portal.url}/indicators/u/{XUHUI}")
    table = page.get_by_role("region", name="徐汇区")
    streets = table.get_by_role("link").filter(has_text=re.compile("街道|镇$"))
    assert streets.count() == 13
    share = page.locator("section.tile", has_text="60岁及以上居民占比")
    chart = share.locator("svg").first
    labels = chart.locator("text").all_text_contents()
    assert "天平路街道" in labels and any(t.startswith("徐汇区") for t in labels)
    # A count is read against the district's total per street, not against the total itself.
    households = page.locator("section.tile", has_text="家庭户数").locator("svg").first
    assert any(t.startswith("徐汇区 平均") for t in households.locator("text").all_text_contents())
    # On a phone each street is a card of figures, without the code and level columns.
    page.set_viewport_size({"width": 390, "height": 844})
    code = table.locator("td", has_text=TIANPING).first
    assert not code.is_visible()
    shoot_at_every_width(page, "indicators-xuhui-district")

    page.goto(f"{portal.url}/indicators/u/{XUHUI}/residents.elderly_share")
    bars = page.locator("figure svg").first.locator("rect")
    assert bars.count() >= 13
    shoot_at_every_width(page, "indicators-xuhui-share")

    page.goto(f"{portal.url}/indicators/u/{TIANPING}")
    assert page.get_by_role("heading", name="天平路街道 指标").is_visible()
    committees = page.get_by_role("region", name="天平路街道").get_by_role("link")
    assert committees.filter(has_text="居委会").count() >= 20
    shoot_at_every_width(page, "indicators-xuhui-street")

    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(f"{portal.url}/indicators/u/{XUHUI}/wall")
    tiles = page.locator("section.wall-tile")
    assert tiles.count() == 8
    last = tiles.nth(7).bounding_box()
    assert last["y"] + last["height"] <= 1080  # the whole wall on one screen
    page.screenshot(path=str(SCREENSHOTS / "indicators-xuhui-wall-1920.png"))
