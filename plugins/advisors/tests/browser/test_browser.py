"""In a real browser: a street advisor opens 政策找人, picks a candidate, records "applied", and
the funnel moves; the other pages are looked at on a phone and a desktop."""

from __future__ import annotations

import pytest
from shequyun_sdk.testing.browser import shoot
from starlette.testclient import TestClient

pytestmark = pytest.mark.browser

API = "/api/v1/plugins/advisors"
BASE = "/plugins/advisors"
STREET = "310115004000"
UNIT = "310115004001"
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_number(serial: int, born: str) -> str:
    first = f"310115{born}{serial:03d}"
    return first + "10X98765432"[sum(int(d) * w for d, w in zip(first, _WEIGHTS, strict=True)) % 11]


def login(page, shequyun_portal, actor):
    page.goto(f"{shequyun_portal.url}/login")
    page.get_by_label("用户名").fill(actor.username)
    page.get_by_label("密码").fill(actor.password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state("networkidle")


def stage(page, key):
    return int(page.locator(f'[data-testid="funnel"] [data-stage="{key}"]').inner_text())


def test_a_street_advisor_records_applied_and_the_funnel_moves(
    shequyun_browser_page, shequyun_portal
):
    page = shequyun_browser_page
    api = TestClient(shequyun_portal.app)
    cadre = shequyun_portal.actors.cadre(UNIT)
    for serial, name, born, tags in (
        (701, "王秀英", "19500312", ["独居老人"]),
        (702, "张建国", "19700312", ["低收入"]),
        (703, "李美华", "19800312", ["残疾", "低保"]),
    ):
        made = api.post(
            "/api/v1/residents",
            headers=cadre.auth,
            json={
                "name": name,
                "id_number": id_number(serial, born),
                "registration": "户籍",
                "phone": f"1381234{serial:04d}",
                "household_number": f"H{serial}",
                "tags": tags,
                "address": {"compound": "潍坊一村", "building": "3", "room": str(serial)},
            },
        )
        assert made.status_code == 201, made.text
    advisor = shequyun_portal.actors.make("advisors.advisor", STREET)
    login(page, shequyun_portal, advisor)
    page.goto(f"{shequyun_portal.url}{BASE}/")
    page.get_by_role("button", name="刷新名单").click()
    page.get_by_text("名单已更新").wait_for()
    assert stage(page, "applied") == 0
    found = stage(page, "found")
    assert found >= 3
    text = page.locator("main").inner_text()
    assert "138****0701" in text and "13812340701" not in text
    shoot(page, "advisors-dashboard")
    page.locator(".av-candidates li", has_text="张建国").first.locator("a.av-name").click()
    page.get_by_role("heading", name="记录跟进结果").wait_for()
    assert "家庭月人均可支配收入低于本市低保标准" in page.locator("main").inner_text()
    shoot(page, "advisors-case")
    page.get_by_label("已申请").check()
    page.get_by_label("备注").fill("已陪同递交低保申请材料")
    page.get_by_role("button", name="保存").click()
    page.get_by_text("已记录：已申请").wait_for()
    assert page.get_by_test_id("status").inner_text() == "已申请"
    assert "已陪同递交低保申请材料" in page.locator(".av-history").inner_text()
    page.get_by_role("link", name="返回名单").click()
    page.wait_for_load_state("networkidle")
    assert stage(page, "applied") == 1
    assert stage(page, "contacted") == 1
    assert stage(page, "found") == found


def test_the_other_pages_on_a_phone_and_a_desktop(shequyun_browser_page, shequyun_portal):
    page = shequyun_browser_page
    api = TestClient(shequyun_portal.app)
    street = shequyun_portal.actors.street_admin(STREET)
    point = api.post(
        f"{API}/points",
        headers=street.auth,
        json={"name": "潍坊新村街道顾问点", "kind": "both", "unit": STREET, "address": "潍坊路1号"},
    )
    advisor = shequyun_portal.actors.make("advisors.advisor", STREET)
    api.post(
        f"{API}/advisors",
        headers=street.auth,
        json={
            "name": "顾问甲",
            "kind": "elderly",
            "point_id": point.json()["id"],
            "user_id": advisor.user.id,
        },
    )
    api.post(
        f"{API}/resources",
        headers=street.auth,
        json={
            "name": "潍坊社区长者食堂",
            "sector": "government",
            "services": ["助餐"],
            "needs": ["独居老人"],
            "provider": "潍坊新村街道",
            "unit": STREET,
            "capacity": 80,
        },
    )
    login(page, shequyun_portal, advisor)
    page.goto(f"{shequyun_portal.url}{BASE}/desk")
    page.get_by_label("上门探访").check()
    page.get_by_label("电话").check()
    page.get_by_label("服务内容").fill("电话回访独居老人，介绍长护险评估")
    page.get_by_role("button", name="记录").click()
    page.get_by_text("已记录一次服务").wait_for()
    shoot(page, "advisors-desk")
    for path, name in (
        ("/policies", "advisors-pool"),
        ("/policies/sh-elderly-allowance", "advisors-policy"),
        ("/figures", "advisors-figures"),
    ):
        page.goto(f"{shequyun_portal.url}{BASE}{path}")
        page.wait_for_load_state("networkidle")
        assert "内部错误" not in page.content()
        shoot(page, name)
