"""A 徐汇区 district user reads the dashboard in a real browser: drills down, downloads."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from shequyun.residents.generate_bulk import bulk_load

from .conftest import SCREENSHOTS, log_in, shoot

XUHUI, TIANPING = "310104000000", "310104003000"
SIZES = {"310104003001": 400, "310104003002": 120, "310115004001": 200}
WALL = {"width": 1920, "height": 1080}


@pytest.fixture(scope="module")
def residents(portal):
    committees = [portal.units[code] for code in SIZES]
    bulk_load(portal.kernel.engine, portal.kernel.residents.cipher, committees, SIZES, 11)
    return portal


def test_a_district_user_drills_down_to_a_committee_and_downloads(browser_page, residents):
    portal, page = residents, browser_page
    district = portal.actors.district_admin(XUHUI)
    log_in(page, portal, district)
    page.get_by_role("link", name="指标", exact=True).first.click()
    page.wait_for_load_state("networkidle")
    assert page.url.endswith(f"/indicators/u/{XUHUI}")
    assert page.get_by_role("heading", name="徐汇区 指标").is_visible()
    share = page.locator("section.tile", has_text="60岁及以上居民占比")
    assert share.locator(".figure .number").inner_text().strip()
    shoot(page, "indicators-district")
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.screenshot(path=str(SCREENSHOTS / "indicators-district-1920.png"))

    # District → street → committee, through the children table.
    table = page.get_by_role("region", name="徐汇区")
    table.get_by_role("link", name="天平路街道").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("heading", name="天平路街道 指标").is_visible()
    page.get_by_role("region").get_by_role("link", name="宛平南路居委会").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("heading", name="宛平南路居委会 指标").is_visible()
    population = page.locator("section.tile", has_text="在册居民").locator(".figure .number")
    assert population.inner_text().strip() == "400"
    shoot(page, "indicators-committee")

    # Back up through the breadcrumbs, and the children table as XLSX.
    page.get_by_role("navigation", name="面包屑").get_by_role("link", name="徐汇区").click()
    page.wait_for_load_state("networkidle")
    with page.expect_download() as download:
        page.locator("section.children").get_by_role("link", name="XLSX").click()
    data = download.value.path().read_bytes()
    rows = list(load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))
    assert rows[0][:4] == ("单位", "编码", "层级", "在册居民（人）")
    assert rows[1][:4] == ("徐汇区（本级合计）", XUHUI, "区", 520)
    assert rows[2][:4] == ("天平路街道", TIANPING, "街镇", 520)
    assert download.value.suggested_filename.endswith(".xlsx")


def test_the_wall_display_fills_a_1920_screen(browser_page, residents):
    portal, page = residents, browser_page
    log_in(page, portal, portal.actors.district_admin(XUHUI))
    page.set_viewport_size(WALL)
    page.goto(f"{portal.url}/indicators/u/{XUHUI}/wall")
    page.wait_for_load_state("networkidle")
    tiles = page.locator("section.wall-tile")
    assert tiles.count() == 8
    # Four across, and every figure large enough to read from across a room.
    first, fourth = tiles.nth(0).bounding_box(), tiles.nth(3).bounding_box()
    assert first["y"] == fourth["y"]
    size = page.locator(".wall .figure .number").first.evaluate(
        "e => parseFloat(getComputedStyle(e).fontSize)"
    )
    assert size >= 48
    page.screenshot(path=str(SCREENSHOTS / "indicators-wall-1920.png"))


def test_the_wall_refreshes_itself_until_someone_pauses_it(browser_page, residents):
    """The wall reloads every five minutes for the figures to stay current, but a person reading
    it with a magnifier or a screen reader can stop that (WCAG 2.2.1): a meta refresh could not
    be paused. The pause holds across the tab's reloads until it is lifted."""
    portal, page = residents, browser_page
    log_in(page, portal, portal.actors.district_admin(XUHUI))
    page.clock.install()
    page.goto(f"{portal.url}/indicators/u/{XUHUI}/wall")
    assert page.locator('meta[http-equiv="refresh"]').count() == 0
    page.evaluate("window.stillHere = true")
    with page.expect_navigation():
        page.clock.fast_forward("05:01")
    assert page.evaluate("window.stillHere") is None  # reloaded

    pause = page.get_by_role("button", name="暂停刷新")
    pause.click()
    resume = page.get_by_role("button", name="继续刷新")
    assert resume.get_attribute("aria-pressed") == "true"
    page.evaluate("window.stillHere = true")
    page.clock.fast_forward("30:00")
    assert page.evaluate("window.stillHere") is True  # still the same page

    resume.click()
    with page.expect_navigation():
        page.clock.fast_forward("05:01")
    assert page.get_by_role("button", name="暂停刷新").get_attribute("aria-pressed") == "false"
