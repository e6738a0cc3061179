"""徐汇区's 民情分析 as its district staff see it on the demo's Shanghai: 13 streets, half a
year of the demo's logs and cases. Screenshots ``governance-xuhui-*`` at 390, 1366 and 1920 px
are for people to look at; the assertions check what they must show."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from sqlmodel import Session, select

from .test_browser import login

# Where the SDK's browser harness puts screenshots (shequyun_sdk.testing.browser.shoot).
SCREENSHOTS = Path(os.environ.get("SHEQUYUN_SCREENSHOTS") or "test-results/screenshots")

BASE = "/plugins/governance"
XUHUI, TIANPING = "310104000000", "310104003000"
SIZES = {"phone": (390, 844), "desktop": (1366, 900), "1920": (1920, 1080)}


@pytest.fixture(scope="module")
def district_head(shequyun_portal):
    """The demo's tree, residents (fewer than ``shequyun demo``) and governance demo data."""
    import shequyun_governance.demo

    from shequyun.identity import demo_data
    from shequyun.identity.models import OrgUnit
    from shequyun.residents import demo
    from shequyun.testing import Actors

    demo_data.load(shequyun_portal.kernel)
    demo.load(shequyun_portal.kernel, full=(20, 40), small=(2, 4))
    assert "案件" in (shequyun_governance.demo.load(shequyun_portal.kernel.platform) or "")
    with Session(shequyun_portal.kernel.engine, expire_on_commit=False) as session:
        units = {
            u.code: u for u in session.exec(select(OrgUnit).where(OrgUnit.level != "committee"))
        }
    return Actors(shequyun_portal.kernel, shequyun_portal.app, units).make(
        "identity.district_admin", XUHUI, username="xuhui.minqing"
    )


def shoot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for label, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{label}.png"), full_page=True)


def test_the_district_compares_its_streets_and_drills_into_one(
    shequyun_browser_page, shequyun_portal, district_head
):
    page = shequyun_browser_page
    login(page, shequyun_portal, district_head)
    page.goto(f"{shequyun_portal.url}{BASE}/dashboard")
    rows = page.locator("table.data tbody tr")
    assert rows.count() >= 13
    assert page.locator("svg", has=page.locator("title", has_text="按期办结率")).count() == 1
    assert "热点楼栋" in page.content()
    shoot(page, "governance-xuhui-dashboard")

    page.get_by_role("link", name="天平路街道").first.click()
    page.wait_for_url(re.compile(rf".*unit_code={TIANPING}.*"))
    committees = page.locator("table.data tbody tr a", has_text="居委会")
    assert committees.count() >= 20
    shoot(page, "governance-xuhui-street")
    page.goto(f"{shequyun_portal.url}{BASE}/cases?status=all")
    shoot(page, "governance-xuhui-cases")
