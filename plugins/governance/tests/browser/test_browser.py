"""In a real browser at phone width: a cadre logs a visit with a photo and turns it into a case;
a street user dispatches, the case comes back handled, and the on-time chart changes. Every page
of the plugin is photographed at 390 and 1366 px (test-results/screenshots/governance-*)."""

from __future__ import annotations

import re
import struct
import zlib

import pytest
from shequyun_sdk.testing.browser import PHONE, shoot
from starlette.testclient import TestClient

pytestmark = pytest.mark.browser

API = "/api/v1/plugins/governance"
BASE = "/plugins/governance"
STREET = "310104003000"  # 天平路街道
WANPING = "310104003001"  # 宛平南路居委会
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def png(red: int, green: int, blue: int, size: int = 48) -> bytes:
    """A valid one-colour PNG photo."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    rows = b"".join(b"\x00" + bytes([red, green, blue]) * size for _ in range(size))
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def id_number(serial: int) -> str:
    first = f"31010419480312{serial:03d}"
    return first + "10X98765432"[sum(int(d) * w for d, w in zip(first, _WEIGHTS, strict=True)) % 11]


def residents(api, cadre):
    for serial, (name, building, room) in enumerate(
        [
            ("王秀英", "12", "402"),
            ("李建国", "12", "501"),
            ("赵敏", "7", "101"),
            ("孙丽", "3", "202"),
        ],
        start=300,
    ):
        made = api.post(
            "/api/v1/residents",
            headers=cadre.auth,
            json={
                "name": name,
                "id_number": id_number(serial),
                "registration": "户籍",
                "address": {"compound": "宛平小区", "building": building, "room": room},
                "household_number": f"WP-{building}-{room}",
            },
        )
        assert made.status_code == 201, made.text


def natural_width(image) -> int:
    """The photo's width once it has loaded. Thumbnails load lazily, after the page's load
    event, so wait for the image (up to 10 s) rather than look once."""
    image.wait_for()
    image.scroll_into_view_if_needed()
    image.page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0",
        arg=image.element_handle(),
        timeout=10_000,
    )
    return int(image.evaluate("img => img.naturalWidth"))


def login(page, shequyun_portal, actor):
    page.goto(f"{shequyun_portal.url}/login")
    page.get_by_label("用户名").fill(actor.username)
    page.get_by_label("密码").fill(actor.password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state("networkidle")


def test_a_cadre_logs_a_visit_with_a_photo_and_turns_it_into_a_case(
    shequyun_browser_page, shequyun_portal
):
    page = shequyun_browser_page
    page.set_viewport_size(PHONE)
    api = TestClient(shequyun_portal.app)
    cadre = shequyun_portal.actors.cadre(WANPING)
    residents(api, cadre)
    login(page, shequyun_portal, cadre)

    # Three taps from the workbench: the card, the camera, 保存.
    page.get_by_role("link", name=re.compile("民情日志")).first.click()
    page.wait_for_url(f"**{BASE}/logs/new")
    shoot(page, "governance-log-new")
    page.get_by_label(re.compile("拍照")).set_input_files(
        {"name": "门牌.png", "mimeType": "image/png", "buffer": png(0xB4, 0x23, 0x2A)}
    )
    page.get_by_role("button", name="保存").click()
    page.get_by_text("已保存。").wait_for()
    assert natural_width(page.locator(".gv-thumbs img").first) == 48
    assert "入户走访" in page.content()
    shoot(page, "governance-log")

    page.get_by_label("案件类别").select_option(label="设施维修（7 个工作日）")
    page.get_by_role("button", name="转为案件").click()
    page.wait_for_url(re.compile(rf".*{BASE}/cases/\d+$"))
    assert "处置中" in page.locator("article").inner_text()
    assert "民情日志" in page.locator(".gv-facts").inner_text()
    assert natural_width(page.locator(".gv-history img").first) == 48
    shoot(page, "governance-case-from-log")

    # A visit to someone in particular: find them, pick them, save.
    page.goto(f"{shequyun_portal.url}{BASE}/logs/new?q=王秀英")
    page.get_by_label(re.compile("王秀英")).check()
    page.get_by_label(re.compile("情况")).fill("老人独居，提醒用电安全，需跟进助餐。")
    page.get_by_label("需要跟进").check()
    page.get_by_role("button", name="保存").click()
    page.get_by_text("已保存。").wait_for()
    assert "王秀英" in page.locator("h1").inner_text()
    for path, name in (("/logs", "logs"), ("/coverage", "coverage"), ("/", "home")):
        page.goto(f"{shequyun_portal.url}{BASE}{path}")
        shoot(page, f"governance-{name}")


def test_a_street_dispatches_and_sees_the_on_time_chart_change(
    shequyun_browser_page, shequyun_portal
):
    page = shequyun_browser_page
    page.set_viewport_size(PHONE)
    api = TestClient(shequyun_portal.app)
    street = shequyun_portal.actors.street_admin(STREET)
    cadre = shequyun_portal.actors.cadre(WANPING)
    login(page, shequyun_portal, street)

    page.goto(f"{shequyun_portal.url}{BASE}/dashboard")
    before = page.locator("table.data").inner_text()
    assert "宛平南路居委会" in before
    rates_before = page.locator("svg title", has_text="按期办结率").count()

    page.goto(f"{shequyun_portal.url}{BASE}/cases/new")
    page.get_by_label("案件标题").fill("宛平南路88弄路灯不亮")
    page.get_by_label("案件描述").fill("弄堂口两盏路灯一周未亮，居民夜间出行不便。")
    page.get_by_label("案件类别").select_option(label="设施维修（7 个工作日）")
    page.get_by_label("承办单位").select_option(label="宛平南路居委会")
    shoot(page, "governance-case-new")
    page.get_by_role("button", name="提交").click()
    page.wait_for_url(re.compile(rf".*{BASE}/cases/\d+$"))
    case_id = int(page.url.rsplit("/", 1)[1])
    assert "待签收" in page.locator("article").inner_text()

    # The committee accepts and reports (over the API, as its phone app would).
    for step, body in (("accept", {}), ("report", {"note": "两盏路灯已修复，居民确认"})):
        done = api.post(f"{API}/cases/{case_id}/steps/{step}", headers=cadre.auth, json=body)
        assert done.status_code == 200, done.text

    page.reload()
    shoot(page, "governance-case-to-verify")
    page.get_by_role("button", name="核查").click()
    page.wait_for_url(f"**{BASE}/cases/{case_id}")
    assert "已结案" in page.locator("article").inner_text()
    assert "按期办结" in page.locator("article").inner_text()
    shoot(page, "governance-case-closed")

    page.goto(f"{shequyun_portal.url}{BASE}/dashboard")
    chart = page.locator("svg", has=page.locator("title", has_text="按期办结率"))
    chart.wait_for()
    assert rates_before == 0 and "宛平南路居委会" in chart.inner_html()
    assert "100%" in chart.inner_html()
    row = page.locator("table.data tr", has_text="宛平南路居委会").inner_text()
    assert "100%" in row and row != before
    shoot(page, "governance-dashboard")
    page.goto(f"{shequyun_portal.url}{BASE}/cases?status=all")
    shoot(page, "governance-cases")


def test_the_knowledge_base_finds_dian_ti_jia_zhuang(shequyun_browser_page, shequyun_portal):
    page = shequyun_browser_page
    street = shequyun_portal.actors.street_admin(STREET)
    cadre = shequyun_portal.actors.cadre(WANPING)
    login(page, shequyun_portal, street)
    page.goto(f"{shequyun_portal.url}{BASE}/knowledge/new")
    page.get_by_label("类型").select_option(label="办事流程")
    page.get_by_label("标题").fill("既有多层住宅电梯加装办事指南")
    page.get_by_label("正文").fill(
        "电梯加装须经本幢业主表决同意。街道受理申请后，规划部门审核方案。"
    )
    page.get_by_label("加装电梯").check()
    shoot(page, "governance-article-form")
    page.get_by_role("button", name="发布").click()
    page.wait_for_url(re.compile(rf".*{BASE}/knowledge/\d+$"))
    shoot(page, "governance-article")

    page.context.clear_cookies()
    login(page, shequyun_portal, cadre)
    page.goto(f"{shequyun_portal.url}{BASE}/knowledge")
    page.get_by_label(re.compile("搜索政策")).fill("加装电梯")
    page.get_by_role("button", name="搜索").click()
    result = page.locator(".gv-results li").first
    result.wait_for()
    assert "电梯加装" in result.inner_text()
    assert result.locator("mark").count() >= 2
    shoot(page, "governance-search")
